/** Field rules the forms share: what the API will refuse, said before anything is sent. */

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A slug (an installation's or a catalog entry's name in URLs), or why it is not one. */
export const slugProblem = (slug: string): string | undefined =>
  SLUG.test(slug) ? undefined : 'Lowercase letters, digits and dashes, starting with a letter or digit.';

/** Tags typed as "a, b, c". */
export const splitTags = (text: string): string[] =>
  text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
