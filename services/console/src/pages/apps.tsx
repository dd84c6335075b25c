import { useTitle } from '../components/layout.tsx';
import { Empty, formatTime, Loading, Problem } from '../components/ui.tsx';
import { authApi } from '../lib/auth-api.ts';
import { useLoad } from '../lib/use-load.ts';
import { useAction } from '../lib/use-submit.ts';

interface Grant {
  client: { id: string; name: string; uri: string | null };
  resource?: string | null;
  scope: string | string[];
  granted_at: string;
}

/** Apps the person approved on the consent page (OAuth grants), and revoking them. */
export function ConnectedApps() {
  useTitle('Connected apps');
  const grants = useLoad(() => authApi<Grant[]>('/user/oauth/grants'), []);
  const revoke = useAction();
  return (
    <section>
      <h1 tabIndex={-1}>Connected apps</h1>
      <p className="lede">
        Apps you allowed to use Switchboard as you, such as Claude or ChatGPT. Revoking one signs it out at
        once.
      </p>
      {grants.loading && !grants.data ? <Loading /> : null}
      <Problem error={grants.error} title="Your connected apps could not be loaded" />
      <Problem error={revoke.error} title="Not revoked" />
      {grants.data?.length === 0 ? (
        <Empty>No apps connected. Apps appear here after you approve them.</Empty>
      ) : null}
      <ul className="cards">
        {grants.data?.map((g) => (
          <li key={g.client.id} className="card">
            <h2>{g.client.name}</h2>
            <dl className="facts">
              <dt>Allowed</dt>
              <dd>{formatTime(g.granted_at)}</dd>
              <dt>Reaches</dt>
              <dd>{g.resource ?? 'your Switchboard'}</dd>
              <dt>Scope</dt>
              <dd>{Array.isArray(g.scope) ? g.scope.join(' ') : g.scope}</dd>
              {g.client.uri ? (
                <>
                  <dt>Website</dt>
                  <dd>{g.client.uri}</dd>
                </>
              ) : null}
            </dl>
            <button
              type="button"
              className="danger small"
              aria-label={`Revoke ${g.client.name}`}
              onClick={revoke.run(async () => {
                await authApi(`/user/oauth/grants?client_id=${encodeURIComponent(g.client.id)}`, {
                  method: 'DELETE',
                });
                grants.reload();
              })}
            >
              Revoke
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
