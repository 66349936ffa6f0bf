import type { WebhookConfig } from '@aoinb/config';
import type { NotifyMessage } from './notify-message.ts';
import type { OutgoingRequest } from './webhook-sender.ts';

const icons: Record<string, string> = { succeeded: '✅', failed: '❌', partial: '⚠️', cancelled: '⛔' };

function stateOf(message: NotifyMessage): string | undefined {
  const state = (message.task ?? message.group)?.state;
  return typeof state === 'string' ? state : undefined;
}

/**
 * Telegram's Bot API `sendMessage`: one HTTPS POST with the chat and a text.
 * Plain text (no parse_mode), so nothing from a bundle can inject markup.
 */
export function telegramRequest(hook: WebhookConfig, message: NotifyMessage): OutgoingRequest {
  const state = stateOf(message);
  const icon = message.event === 'builder_offline' ? '🔌' : state ? (icons[state] ?? 'ℹ️') : 'ℹ️';
  const text = `${icon} ${message.summary}\n${message.url}`;
  return {
    url: `${hook.url}/bot${hook.secret ?? ''}/sendMessage`,
    headers: { 'content-type': 'application/json', 'user-agent': 'aoinb-coordinator' },
    body: JSON.stringify({ chat_id: hook.chatId, text: text.slice(0, 4096), disable_web_page_preview: true }),
  };
}
