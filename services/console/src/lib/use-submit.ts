import { useState } from 'react';
import { ApiError } from './api.ts';

/** Which form field an API error concerns, when the form has that field. */
export type FieldOf = (err: ApiError) => string | undefined;

/**
 * A form's submit: the browser's own checks first (nothing is sent while one fails), then the request;
 * an API error that names one of the form's fields is shown at that field, any other above the button.
 */
export function useSubmit(fields: readonly string[], fieldOf: FieldOf = (err) => err.field) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (local: Record<string, string>, send: () => Promise<void>) => {
    setErrors(local);
    setError(undefined);
    if (Object.keys(local).length > 0) return;
    setBusy(true);
    try {
      await send();
    } catch (err) {
      const field = err instanceof ApiError ? fieldOf(err) : undefined;
      if (field && fields.includes(field)) setErrors({ [field]: (err as Error).message });
      else setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { errors, error, busy, submit };
}

/** A button's action (revoke, delete, change): its failure is kept to show, its success clears it. */
export function useAction() {
  const [error, setError] = useState<unknown>();
  const run = (action: () => Promise<unknown>) => async () => {
    setError(undefined);
    try {
      await action();
    } catch (err) {
      setError(err);
    }
  };
  return { error, run };
}
