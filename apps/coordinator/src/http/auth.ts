import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TokenConfig, TokenRole } from '@aoinb/config';
import { AoinbError } from '@aoinb/errors';
import type { Principal } from '../context.ts';

/** Who may call a route: `public` (no token), `any` (any valid token) or a list of roles (admin always may). */
export type Access = 'public' | 'any' | TokenRole[];

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Bearer-token authentication. Tokens are looked up by their sha256, so the
 * secret itself is never compared byte by byte. A missing or unknown token is
 * 401; a known token whose role may not call the route is 403.
 */
export function registerAuth(app: FastifyInstance, tokens: TokenConfig[]): void {
  const byDigest = new Map<string, Principal>();
  for (const t of tokens)
    if (t.token)
      byDigest.set(digest(t.token), {
        name: t.name,
        role: t.role,
        ...(t.networkBuilds ? { networkBuilds: true } : {}),
      });
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    // Unknown routes (the 404 handler) need no token: they answer 404, not 401.
    const access = request.routeOptions.url === undefined ? 'public' : (request.routeOptions.config?.access ?? 'any');
    if (access === 'public') return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match)
      throw new AoinbError(
        'UNAUTHORIZED',
        header
          ? 'the Authorization header is not "Bearer <token>"'
          : 'this request needs an Authorization: Bearer <token> header',
      );
    const principal = byDigest.get(digest(match[1] as string));
    if (!principal) throw new AoinbError('UNAUTHORIZED', 'the token is not known to this coordinator');
    if (access !== 'any' && principal.role !== 'admin' && !access.includes(principal.role)) {
      throw new AoinbError(
        'FORBIDDEN',
        `token ${principal.name} (${principal.role}) may not ${request.method} ${request.routeOptions.url}; ` +
          `it needs the ${access.join(' or ')} role`,
      );
    }
    request.principal = principal;
  });
}

export function principalOf(request: FastifyRequest): Principal {
  return request.principal ?? { name: 'anonymous', role: 'maintainer' };
}
