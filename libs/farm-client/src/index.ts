export { FarmClient, clientSettings, type ClientSettings } from './farm-client.ts';
export { sseEvents, type SseEvent } from './sse-events.ts';
export { followLog, type LogEnd } from './follow-log.ts';
