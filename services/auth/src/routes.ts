import { timingSafeEqual } from 'node:crypto';
import { type Request, type RequestHandler, Router } from 'express';
import { z } from 'zod';
import { authErrors } from './gotrue/errors.ts';
import type { SigningKeys } from './keys/signing-keys.ts';
import type { SignInRateLimiter } from './rate-limit.ts';
import type { PasswordRecovery } from './recovery/password-recovery.ts';
import type { AuthService, LogoutScope } from './sessions/auth-service.ts';

export interface AuthRouterDeps {
  service: AuthService;
  keys: SigningKeys;
  limiter: SignInRateLimiter;
  recovery: PasswordRecovery;
  anonKey?: string | undefined;
}

const metadata = z.record(z.string(), z.unknown()).optional();
const signupBody = z.object({ email: z.unknown(), password: z.unknown(), data: metadata }).loose();
const passwordGrantBody = z.object({ email: z.unknown(), password: z.unknown() }).loose();
const refreshGrantBody = z.object({ refresh_token: z.unknown() }).loose();
const recoverBody = z.object({ email: z.string().min(3).max(320) }).loose();
const updateUserBody = z
  .object({ password: z.string().optional(), data: metadata, email: z.unknown().optional() })
  .loose();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw authErrors.validation('Invalid request body');
  return result.data;
}

const bearer = (req: Request) => /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
const meta = (req: Request) => ({ ip: req.ip, userAgent: req.get('user-agent') });

/** The Supabase Auth (GoTrue) routes supabase-js calls, mounted by the gateway at `/auth/v1`. */
export function authRouter(deps: AuthRouterDeps): Router {
  const { service, keys, limiter } = deps;
  const router = Router();

  router.get('/.well-known/jwks.json', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=600');
    res.json(keys.jwks());
  });
  router.get('/health', (_req, res) => {
    res.json({
      version: 'switchboard-local-auth',
      name: 'GoTrue',
      description: 'Supabase-Auth-compatible local auth',
    });
  });

  // The link in a recovery email: a browser navigation, so no apikey. GoTrue's answer either way is a
  // redirect to the app, with the session (or the error) in the fragment, never in the query string.
  router.get('/verify', async (req, res) => {
    const redirect = deps.recovery.redirectFor(req.query.redirect_to);
    const token = req.query.token;
    const session =
      req.query.type === 'recovery' && typeof token === 'string' && token.length <= 200
        ? await deps.recovery.verify(token, meta(req))
        : undefined;
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    if (!session) {
      const error = new URLSearchParams({
        error: 'access_denied',
        error_code: 'otp_expired',
        error_description: 'Email link is invalid or has expired',
      });
      return void res.redirect(303, `${redirect}#${error}`);
    }
    const fragment = new URLSearchParams({
      access_token: session.access_token,
      expires_at: String(session.expires_at),
      expires_in: String(session.expires_in),
      refresh_token: session.refresh_token,
      token_type: 'bearer',
      type: 'recovery',
    });
    res.redirect(303, `${redirect}#${fragment}`);
  });

  router.use(requireApiKey(deps.anonKey));

  router.post('/recover', async (req, res) => {
    const body = parse(recoverBody, req.body);
    await limiter.attempt(req.ip, body.email);
    await deps.recovery.request(body.email, req.query.redirect_to);
    res.json({});
  });

  router.post('/signup', async (req, res) => {
    const body = parse(signupBody, req.body);
    await limiter.attempt(req.ip, body.email);
    res.json(await service.signup(body.email as string, body.password as string, body.data ?? {}, meta(req)));
  });

  router.post('/token', async (req, res) => {
    const grant = req.query.grant_type;
    if (grant === 'password') {
      const body = parse(passwordGrantBody, req.body);
      await limiter.attempt(req.ip, body.email);
      res.json(await service.signInWithPassword(body.email as string, body.password as string, meta(req)));
    } else if (grant === 'refresh_token') {
      const body = parse(refreshGrantBody, req.body);
      res.json(await service.refresh(body.refresh_token as string));
    } else {
      throw authErrors.validation('unsupported_grant_type');
    }
  });

  router.get('/user', async (req, res) => {
    res.json(await service.getUser(bearer(req)));
  });

  router.put('/user', async (req, res) => {
    const body = parse(updateUserBody, req.body);
    if (body.email !== undefined)
      throw authErrors.validation('Changing the email address is not supported by local auth');
    res.json(await service.updateUser(bearer(req), { password: body.password, data: body.data }));
  });

  router.post('/logout', async (req, res) => {
    const scope = (req.query.scope ?? 'global') as LogoutScope;
    if (!['global', 'local', 'others'].includes(scope))
      throw authErrors.validation('Unsupported logout scope');
    await service.logout(bearer(req), scope);
    res.status(204).end();
  });

  return router;
}

/** Kong's check on Supabase: every auth request carries the project's key in `apikey`. */
function requireApiKey(anonKey: string | undefined): RequestHandler {
  const expected = anonKey ? Buffer.from(anonKey) : undefined;
  return (req, _res, next) => {
    if (!expected) return next();
    const given = Buffer.from(req.get('apikey') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return next(authErrors.invalidApiKey());
    next();
  };
}
