import { useState } from 'react';
import { Link } from 'react-router';
import { useTitle } from '../components/layout.tsx';
import { Snippet } from '../components/ui.tsx';
import { api } from '../lib/api.ts';
import { clientSetups } from '../lib/client-setups.ts';
import { config } from '../lib/config.ts';
import type { Installation } from '../lib/types.ts';
import { useLoad } from '../lib/use-load.ts';

export function ConnectClient() {
  useTitle('Connect a client');
  const servers = useLoad(() => api<Installation[]>('/installations'), []);
  const [scope, setScope] = useState('');
  const url = `${config.publicUrl}/mcp${scope ? `/${scope}` : ''}`;
  const name = scope ? `switchboard-${scope}` : 'switchboard';
  return (
    <section>
      <h1 tabIndex={-1}>Connect a client</h1>
      <p className="lede">
        One URL gives a client all of your enabled servers’ tools, with your credentials and no one else’s.
      </p>
      <div className="field">
        <label htmlFor="endpoint-scope">Endpoint</label>
        <select id="endpoint-scope" value={scope} onChange={(e) => setScope(e.target.value)}>
          <option value="">All my servers (/mcp)</option>
          {(servers.data ?? []).map((i) => (
            <option key={i.slug} value={i.slug}>
              Only {i.slug} (/mcp/{i.slug})
            </option>
          ))}
        </select>
      </div>
      <Snippet label="Your endpoint" text={url} />
      <p>
        Clients that take a token instead of signing in need an <Link to="/keys">API key</Link>.
      </p>
      {clientSetups(url, name).map((s, i) => (
        <section key={s.client} className="client" aria-labelledby={`client-${i}`}>
          <h2 id={`client-${i}`}>{s.client}</h2>
          <p>{s.how}</p>
          <Snippet label={s.label} text={s.text} />
        </section>
      ))}
    </section>
  );
}
