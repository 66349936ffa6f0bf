import type { ApiClient } from '../api.ts';
import { h } from '../dom.ts';
import { followLog } from '../sse.ts';

/** Lines drawn at most; the rest stay searchable and in the raw log. */
const shownLines = 5000;

/** One line of the log, numbered, the search's matches marked. */
function lineNode(text: string, n: number, needle: string): HTMLElement {
  const el = h('div', { class: 'line', 'data-n': n });
  if (!needle) el.textContent = text;
  else {
    let at = 0;
    const lower = text.toLowerCase();
    for (let i = lower.indexOf(needle); i !== -1; i = lower.indexOf(needle, at)) {
      el.append(text.slice(at, i), h('mark', null, text.slice(i, i + needle.length)));
      at = i + needle.length;
    }
    el.append(text.slice(at));
  }
  return el;
}

/** The view's parts: the lines' box, the connection status, follow and search, the line count, the raw log. */
function logParts(api: ApiClient, taskId: string, arch: string, run: number, path: string) {
  const output = h('div', {
    class: 'log',
    role: 'log',
    'aria-label': `Build log of ${arch}, run ${run}`,
    tabindex: '0',
  });
  const status = h('span', { class: 'log-status', 'aria-live': 'polite' }, 'connecting…');
  const follow = h('input', { type: 'checkbox', id: `follow-${arch}`, checked: true });
  const search = h('input', {
    type: 'search',
    id: `search-${arch}`,
    placeholder: 'Search the log',
    'aria-controls': output.id || undefined,
  });
  const count = h('span', { class: 'muted', 'aria-live': 'polite' });
  const raw = h('button', { type: 'button', class: 'quiet' }, 'Raw log');
  raw.addEventListener(
    'click',
    () =>
      void api
        .openProtected(path, `task-${taskId}-${arch}-run${run}.log`, 'view')
        .catch((e: Error) => (status.textContent = e.message)),
  );
  return { output, status, follow, search, count, raw };
}

type LogParts = ReturnType<typeof logParts>;

/** Draws the last lines of those the search matches (all without a search), and their count. */
function redraw({ output, search, count, follow }: LogParts, lines: string[]): void {
  const needle = search.value.trim().toLowerCase();
  const picked = lines
    .map((text, i) => ({ text, n: i + 1 }))
    .filter((l) => !needle || l.text.toLowerCase().includes(needle));
  const tail = picked.slice(-shownLines);
  output.replaceChildren(
    ...(picked.length > tail.length
      ? [
          h(
            'div',
            { class: 'line muted' },
            `${picked.length - tail.length} earlier lines not drawn: search, or open the raw log.`,
          ),
        ]
      : []),
    ...tail.map((l) => lineNode(l.text, l.n, needle)),
  );
  count.textContent = needle ? `${picked.length} of ${lines.length} lines match` : `${lines.length} lines`;
  if (follow.checked) output.scrollTop = output.scrollHeight;
}

/** Follows the log over SSE (with resume) into `lines`: appended as they come unless a search is shown. */
function streamLog(api: ApiClient, parts: LogParts, lines: string[], path: string, signal: AbortSignal): void {
  const { output, search, count, follow, status } = parts;
  void followLog(
    api,
    path,
    {
      onLines(batch) {
        const start = lines.length;
        lines.push(...batch);
        if (search.value.trim() || lines.length > shownLines) return redraw(parts, lines);
        output.append(...batch.map((text, i) => lineNode(text, start + i + 1, '')));
        count.textContent = `${lines.length} lines`;
        if (follow.checked) output.scrollTop = output.scrollHeight;
      },
      onEnd(end) {
        status.textContent = `log complete: the build ${end.state}${end.reason ? ` (${end.reason})` : ''}`;
        status.dataset.live = 'ended';
      },
      onStatus(state, detail) {
        status.textContent = state === 'live' ? 'live' : (detail ?? `${state}…`);
        status.dataset.live = state;
      },
    },
    signal,
  );
}

/**
 * One build's live log: SSE with resume, follow (stick to the bottom), search
 * (shows matching lines only), and the raw text as a file.
 */
export function logView(api: ApiClient, taskId: string, arch: string, run: number, signal: AbortSignal): HTMLElement {
  const lines: string[] = [];
  const path = `/task/${taskId}/log?arch=${encodeURIComponent(arch)}&run=${run}`;
  const parts = logParts(api, taskId, arch, run, path);
  const { output, follow, search, count, raw, status } = parts;
  search.addEventListener('input', () => redraw(parts, lines));
  follow.addEventListener('change', () => follow.checked && (output.scrollTop = output.scrollHeight));
  streamLog(api, parts, lines, path, signal);
  return h(
    'section',
    { class: 'log-panel', 'aria-label': `Log of ${arch}` },
    h(
      'div',
      { class: 'log-tools' },
      h('label', { class: 'check' }, follow, ' Follow'),
      h('label', { class: 'visually-hidden', for: `search-${arch}` }, 'Search the log'),
      search,
      count,
      raw,
      status,
    ),
    output,
  );
}
