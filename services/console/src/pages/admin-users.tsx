import { useState } from 'react';
import { useTitle } from '../components/layout.tsx';
import { Empty, formatTime, Loading, Notice, Problem } from '../components/ui.tsx';
import { api, authorizedFetch, errorFrom } from '../lib/api.ts';
import { useLoad } from '../lib/use-load.ts';
import { useAction } from '../lib/use-submit.ts';

interface User {
  id: string;
  email: string;
  role: string;
  plan_id: string;
  created_at: string;
  last_sign_in_at: string | null;
}
interface Plan {
  id: string;
  title: string;
  requests_per_minute: number;
  daily_tool_calls: number;
  is_default: boolean;
}
interface ReportRow {
  user_id: string;
  email: string;
  server: string;
  month: string;
  tool_calls: number;
}

export function AdminUsers() {
  useTitle('Users and plans');
  const users = useLoad(() => api<User[]>('/users'), []);
  const plans = useLoad(() => api<Plan[]>('/plans'), []);
  const assign = useAction();
  const [notice, setNotice] = useState<string>();
  return (
    <section>
      <h1 tabIndex={-1}>Users and plans</h1>
      <h2>Plans</h2>
      <Problem error={plans.error} title="Plans could not be loaded" />
      {plans.data ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Plan</th>
              <th scope="col">Requests per minute</th>
              <th scope="col">Tool calls per day</th>
            </tr>
          </thead>
          <tbody>
            {plans.data.map((p) => (
              <tr key={p.id}>
                <td>
                  {p.title} <code className="muted">{p.id}</code>{' '}
                  {p.is_default ? <span className="tag">default</span> : null}
                </td>
                <td>{p.requests_per_minute.toLocaleString()}</td>
                <td>{p.daily_tool_calls.toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <h2>Users</h2>
      {users.loading && !users.data ? <Loading /> : null}
      <Problem error={users.error} title="Users could not be loaded" />
      <Problem error={assign.error} title="Plan not changed" />
      {notice ? <Notice>{notice}</Notice> : null}
      {users.data?.length === 0 ? <Empty>Nobody has signed up yet.</Empty> : null}
      {users.data?.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Signed up</th>
              <th scope="col">Last sign-in</th>
              <th scope="col">Plan</th>
            </tr>
          </thead>
          <tbody>
            {users.data.map((u) => (
              <tr key={u.id}>
                <td>{u.email}</td>
                <td>{u.role}</td>
                <td>{formatTime(u.created_at)}</td>
                <td>{formatTime(u.last_sign_in_at)}</td>
                <td>
                  <select
                    aria-label={`Plan for ${u.email}`}
                    value={u.plan_id}
                    onChange={(e) => {
                      // Read now: the controlled select snaps back until the reload.
                      const plan = e.target.value;
                      setNotice(undefined);
                      void assign.run(async () => {
                        await api(`/users/${u.id}/plan`, { method: 'PUT', body: { plan } });
                        setNotice(`${u.email} is now on ${plan}.`);
                        users.reload();
                      })();
                    }}
                  >
                    {(plans.data ?? [{ id: u.plan_id, title: u.plan_id }]).map((p) => (
                      <option key={p.id} value={p.id}>
                        {p.title}
                      </option>
                    ))}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

export function AdminUsage() {
  useTitle('Usage report');
  const [month, setMonth] = useState(() => new Date().toISOString().slice(0, 7));
  const report = useLoad(
    () => api<ReportRow[]>(`/reports/usage?month=${encodeURIComponent(month)}`),
    [month],
  );
  const download = useAction();
  const total = (report.data ?? []).reduce((n, r) => n + r.tool_calls, 0);
  return (
    <section>
      <h1 tabIndex={-1}>Usage report</h1>
      <p className="lede">Tool calls per user and server for a month (UTC): what billing reads.</p>
      <div className="filters">
        <div className="field">
          <label htmlFor="report-month">Month</label>
          <input
            id="report-month"
            type="month"
            value={month}
            onChange={(e) => e.target.value && setMonth(e.target.value)}
          />
        </div>
        <button
          type="button"
          className="secondary"
          onClick={download.run(async () => {
            const res = await authorizedFetch(
              `/api/v1/reports/usage?month=${encodeURIComponent(month)}&format=csv`,
            );
            if (!res.ok) throw await errorFrom(res);
            const url = URL.createObjectURL(await res.blob());
            Object.assign(document.createElement('a'), {
              href: url,
              download: `switchboard-usage-${month}.csv`,
            }).click();
            setTimeout(() => URL.revokeObjectURL(url), 10_000);
          })}
        >
          Download CSV
        </button>
      </div>
      <Problem error={download.error} title="The CSV could not be downloaded" />
      {report.loading && !report.data ? <Loading /> : null}
      <Problem error={report.error} title="The report could not be loaded" />
      {report.data?.length === 0 ? <Empty>No tool calls in {month}.</Empty> : null}
      {report.data?.length ? (
        <table>
          <caption>
            {total.toLocaleString()} tool calls in {month}
          </caption>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Server</th>
              <th scope="col">Tool calls</th>
            </tr>
          </thead>
          <tbody>
            {report.data.map((r) => (
              <tr key={`${r.user_id}/${r.server}`}>
                <td>{r.email}</td>
                <td>{r.server}</td>
                <td>{r.tool_calls.toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
