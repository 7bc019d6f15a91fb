// The chat's time budget is decided in api.ts; the backend and nginx must agree with it, or the
// client gives up on turns the server still completes (and says "Not sent" about a saved task).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHAT_CLIENT_TIMEOUT_MS, CHAT_PROXY_TIMEOUT_MS, CHAT_SERVER_TIMEOUT_MS } from './api';

const read = (rel: string) => readFileSync(new URL(rel, import.meta.url), 'utf8');

describe('chat timeouts', () => {
  it('backend ChatTimeout equals the client constant', () => {
    const m = /ChatTimeout\s*=\s*(\d+)\s*\*\s*time\.Second/.exec(read('../../backend/internal/httpapi/handlers.go'));
    expect(m).not.toBeNull();
    expect(Number(m![1]) * 1000).toBe(CHAT_SERVER_TIMEOUT_MS);
  });

  it('nginx waits for the API as long as the client constant says', () => {
    const m = /location \/api\/[\s\S]*?proxy_read_timeout\s+(\d+)s;/.exec(read('../nginx.conf'));
    expect(m).not.toBeNull();
    expect(Number(m![1]) * 1000).toBe(CHAT_PROXY_TIMEOUT_MS);
  });

  it('server < nginx < client', () => {
    expect(CHAT_SERVER_TIMEOUT_MS).toBeLessThan(CHAT_PROXY_TIMEOUT_MS);
    expect(CHAT_PROXY_TIMEOUT_MS).toBeLessThan(CHAT_CLIENT_TIMEOUT_MS);
  });
});
