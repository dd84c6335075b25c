import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { useTitle } from '../components/layout.tsx';
import { Empty, formatTime, Loading, Problem } from '../components/ui.tsx';
import { UsageChart, type UsageDay } from '../components/usage-chart.tsx';
import { api } from '../lib/api.ts';
import type { Installation } from '../lib/types.ts';
import { useLoad } from '../lib/use-load.ts';

interface AuditEvent {
  id: string;
  occurred_at: string;
  action: string;
  outcome: string;
  server_slug: string | null;
  installation_slug: string | null;
  tool: string | null;
  duration_ms: number | null;
  reason: string | null;
  api_key_id: string | null;
  cursor: string;
}

interface Usage {
  plan: { id: string; title: string; daily_tool_calls: number; requests_per_minute: number };
  today: number;
  days: UsageDay[];
}

const FILTERS = ['server', 'tool', 'outcome', 'since', 'until'] as const;
const SPAN = 30;

/** A day picked in the form, as the start of that day (since) or of the next (until), in local time. */
const dayBound = (day: string, end: boolean) => {
  const d = new Date(`${day}T00:00:00`);
  if (end) d.setDate(d.getDate() + 1);
  return d.toISOString();
};

export function Activity() {
  useTitle('Activity');
  const [params, setParams] = useSearchParams();
  const filters = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? '']));
  const query = () => {
    const q = new URLSearchParams({ limit: '50' });
    if (filters.server) q.set('server', filters.server);
    if (filters.tool) q.set('tool', filters.tool);
    if (filters.outcome) q.set('outcome', filters.outcome);
    if (filters.since) q.set('since', dayBound(filters.since, false));
    if (filters.until) q.set('until', dayBound(filters.until, true));
    return q;
  };
  const key = params.toString();
  const [more, setMore] = useState<{ key: string; events: AuditEvent[]; done: boolean }>({
    key,
    events: [],
    done: false,
  });
  const events = useLoad(() => api<AuditEvent[]>(`/audit?${query()}`), [key]);
  const usage = useLoad(() => api<Usage>(`/usage?days=${SPAN}`), []);
  const servers = useLoad(() => api<Installation[]>('/installations'), []);
  const extra = more.key === key ? more.events : [];
  const all = [...(events.data ?? []), ...extra];
  const set = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  return (
    <section>
      <h1 tabIndex={-1}>Activity</h1>
      <section aria-labelledby="usage-heading" className="panel">
        <h2 id="usage-heading">Usage</h2>
        {usage.loading && !usage.data ? <Loading /> : null}
        <Problem error={usage.error} title="Usage could not be loaded" />
        {usage.data ? (
          <>
            <p>
              Today: <strong>{usage.data.today.toLocaleString()}</strong> of{' '}
              {usage.data.plan.daily_tool_calls.toLocaleString()} tool calls on the {usage.data.plan.title}{' '}
              plan.
            </p>
            <meter
              min={0}
              max={usage.data.plan.daily_tool_calls}
              value={usage.data.today}
              aria-label="Today's tool calls against the plan"
            />
            {usage.data.days.length ? (
              <UsageChart days={usage.data.days} span={SPAN} />
            ) : (
              <Empty>No tool calls in the last {SPAN} days.</Empty>
            )}
          </>
        ) : null}
      </section>
      <h2>Audit trail</h2>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the audit trail">
        <div className="field">
          <label htmlFor="f-server">Server</label>
          <select id="f-server" value={filters.server} onChange={(e) => set('server', e.target.value)}>
            <option value="">All</option>
            {(servers.data ?? []).map((s) => (
              <option key={s.slug} value={s.slug}>
                {s.slug}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-tool">Tool</label>
          <input id="f-tool" value={filters.tool} onChange={(e) => set('tool', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="f-outcome">Outcome</label>
          <select id="f-outcome" value={filters.outcome} onChange={(e) => set('outcome', e.target.value)}>
            <option value="">All</option>
            <option value="success">Success</option>
            <option value="failure">Failure</option>
            <option value="unknown">Unknown</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-since">From</label>
          <input
            id="f-since"
            type="date"
            value={filters.since}
            onChange={(e) => set('since', e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="f-until">To</label>
          <input
            id="f-until"
            type="date"
            value={filters.until}
            onChange={(e) => set('until', e.target.value)}
          />
        </div>
      </form>
      {events.loading && !events.data ? <Loading /> : null}
      <Problem error={events.error} title="The audit trail could not be loaded" />
      {events.data && all.length === 0 ? <Empty>Nothing matches.</Empty> : null}
      {all.length ? (
        <table>
          <caption className="visually-hidden">Audit events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col">Server</th>
              <th scope="col">Tool</th>
              <th scope="col">Outcome</th>
              <th scope="col">Took</th>
            </tr>
          </thead>
          <tbody>
            {all.map((e) => (
              <tr key={e.id}>
                <td>{formatTime(e.occurred_at)}</td>
                <td>
                  {e.action}
                  {e.api_key_id && e.action === 'tool.call' ? (
                    <span className="muted"> (with an API key)</span>
                  ) : null}
                </td>
                <td>{e.installation_slug ?? e.server_slug ?? '—'}</td>
                <td>{e.tool ?? '—'}</td>
                <td>
                  <span className={`badge badge-${e.outcome === 'success' ? 'ok' : 'failing'}`}>
                    {e.outcome}
                  </span>
                  {e.reason ? <span className="muted"> {e.reason}</span> : null}
                </td>
                <td>{e.duration_ms === null ? '—' : `${e.duration_ms} ms`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {all.length >= 50 && !(more.key === key && more.done) ? (
        <button
          type="button"
          className="secondary"
          onClick={async () => {
            const q = query();
            q.set('before', all[all.length - 1]!.cursor);
            const page = await api<AuditEvent[]>(`/audit?${q}`);
            setMore({ key, events: [...extra, ...page], done: page.length < 50 });
          }}
        >
          Show older
        </button>
      ) : null}
    </section>
  );
}
