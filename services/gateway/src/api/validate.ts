import { DomainError } from '@switchboard/runtime';
import type { z } from 'zod';

/** Parses request input with zod; a failure is a 400 naming the first bad field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, what = 'body'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${what}.${issue.path.join('.')}` : what;
  const shape = (schema as { shape?: Record<string, z.ZodType> }).shape;
  // The whole input is the wrong type (a bare string, an array): say what shape is expected.
  const message =
    issue && issue.path.length === 0 && issue.code === 'invalid_type' && shape
      ? `${what} must be a JSON object with ${describeShape(shape)}`
      : `${where}: ${issue?.message ?? 'invalid'}`;
  throw new DomainError(
    'validation_failed',
    message,
    {},
    {
      issues: result.error.issues.slice(0, 10).map((i) => ({ path: i.path.map(String), message: i.message })),
    },
  );
}

function describeShape(shape: Record<string, z.ZodType>): string {
  const fields = Object.entries(shape).map(([name, field]) =>
    field.safeParse(undefined).success ? `${name}?` : name,
  );
  return fields.length ? `the fields ${fields.join(', ')}` : 'no fields';
}
