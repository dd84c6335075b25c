import { DomainError } from '@switchboard/runtime';
import type { z } from 'zod';

/** Parses request input with zod; a failure is a 400 naming the first bad field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, what = 'body'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${what}.${issue.path.join('.')}` : what;
  throw new DomainError(
    'validation_failed',
    `${where}: ${issue?.message ?? 'invalid'}`,
    {},
    {
      issues: result.error.issues.slice(0, 10).map((i) => ({ path: i.path.map(String), message: i.message })),
    },
  );
}
