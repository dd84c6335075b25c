/** Tool calls per day, stacked by server: an SVG chart with the same figures in a table beside it. */
export interface UsageDay {
  day: string;
  server: string;
  tool_calls: number;
}

const COLORS = ['#1f5eff', '#e8590c', '#2b8a3e', '#ae3ec9', '#c92a2a', '#1098ad', '#5c940d', '#862e9c'];

export function UsageChart({ days, span }: { days: UsageDay[]; span: number }) {
  const servers = [...new Set(days.map((d) => d.server))].sort();
  const dates: string[] = [];
  const today = new Date();
  for (let i = span - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i));
    dates.push(d.toISOString().slice(0, 10));
  }
  const at = (date: string, server: string) =>
    days.find((d) => d.day === date && d.server === server)?.tool_calls ?? 0;
  const totals = dates.map((date) => servers.reduce((n, s) => n + at(date, s), 0));
  const max = Math.max(1, ...totals);
  const W = 640;
  const H = 180;
  const bar = W / dates.length;
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${W} ${H + 20}`}
        role="img"
        aria-label={`Tool calls per day over the last ${span} days, by server`}
      >
        {dates.map((date, i) => {
          let y = H;
          return (
            <g key={date}>
              {servers.map((s, k) => {
                const h = (at(date, s) / max) * (H - 10);
                y -= h;
                return h > 0 ? (
                  <rect
                    key={s}
                    x={i * bar + 1}
                    y={y}
                    width={Math.max(1, bar - 2)}
                    height={h}
                    fill={COLORS[k % COLORS.length]}
                  >
                    <title>{`${date} · ${s}: ${at(date, s)}`}</title>
                  </rect>
                ) : null;
              })}
            </g>
          );
        })}
        <line x1="0" y1={H} x2={W} y2={H} stroke="#999" />
        <text x="0" y={H + 16} fontSize="11">
          {dates[0]}
        </text>
        <text x={W} y={H + 16} fontSize="11" textAnchor="end">
          {dates[dates.length - 1]}
        </text>
        <text x="2" y="12" fontSize="11">
          {max} calls
        </text>
      </svg>
      <figcaption>
        <ul className="legend">
          {servers.map((s, k) => (
            <li key={s}>
              <span className="swatch" style={{ background: COLORS[k % COLORS.length] }} /> {s}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
