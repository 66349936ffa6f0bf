import { h } from './dom.ts';

/**
 * Every state shown as a word and a shape, with colour only as a third cue:
 * the pages stay readable in greyscale and for colour-blind readers.
 */
const glyphs: Record<string, string> = {
  created: '○',
  waiting: '◌',
  queued: '◷',
  running: '▶',
  building: '▶',
  succeeded: '✓',
  failed: '✗',
  partial: '◑',
  cancelled: '⊘',
  skipped: '↷',
  idle: '●',
  online: '●',
  draining: '◐',
  offline: '⨯',
};

const tones: Record<string, string> = {
  created: 'neutral',
  waiting: 'neutral',
  queued: 'info',
  running: 'active',
  building: 'active',
  succeeded: 'good',
  idle: 'good',
  online: 'good',
  failed: 'bad',
  offline: 'bad',
  partial: 'warn',
  draining: 'warn',
  cancelled: 'muted',
  skipped: 'muted',
};

export function stateBadge(state: string, label = state): HTMLElement {
  return h(
    'span',
    { class: `state tone-${tones[state] ?? 'neutral'}`, 'data-state': state },
    h('span', { class: 'glyph', 'aria-hidden': 'true' }, glyphs[state] ?? '•'),
    ' ',
    label,
  );
}

// The contract's plain lists (a module without TypeBox, so the bundle stays small).
export { isFinalGroupState, isFinalTaskState } from '@aoinb/farm-contract/states';
