/**
 * A strict parser of `WWW-Authenticate` field values (RFC 9110 §11.2 and §11.6.1): a list of
 * challenges, each an auth-scheme followed by a token68 or a comma-separated list of auth-params whose
 * values are tokens or quoted-strings. Anything the grammar does not allow throws, so a test using it
 * fails on a header a careful client could reject. (Written for the tests: the parsers on npm accept
 * unescaped quotes inside quoted-strings.)
 */
export interface Challenge {
  scheme: string;
  token68?: string;
  params: Record<string, string>;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

export function parseWwwAuthenticate(value: string): Challenge[] {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`invalid WWW-Authenticate at ${i}: ${what} in ${JSON.stringify(value)}`);
  };
  const ows = () => {
    while (value[i] === ' ' || value[i] === '\t') i++;
  };
  const token = (): string => {
    const start = i;
    while (i < value.length && TCHAR.test(value[i]!)) i++;
    if (i === start) fail('expected a token');
    return value.slice(start, i);
  };
  const quotedString = (): string => {
    if (value[i] !== '"') fail('expected a quoted-string');
    i++;
    let out = '';
    for (;;) {
      const c = value[i];
      if (c === undefined) fail('unterminated quoted-string');
      const code = c!.charCodeAt(0);
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\') {
        const next = value[i + 1];
        if (next === undefined || (next.charCodeAt(0) < 0x20 && next !== '\t') || next.charCodeAt(0) === 0x7f)
          fail('bad quoted-pair');
        out += next;
        i += 2;
        continue;
      }
      if ((code < 0x20 && c !== '\t') || code === 0x7f) fail('control character in quoted-string');
      out += c;
      i++;
    }
  };
  const challenges: Challenge[] = [];
  const atNewChallenge = () => {
    // After a comma: another auth-param (token BWS "=") or a new challenge (a scheme, then SP or end).
    const save = i;
    ows();
    const start = i;
    while (i < value.length && TCHAR.test(value[i]!)) i++;
    const word = value.slice(start, i);
    ows();
    const isParam = word.length > 0 && value[i] === '=';
    i = save;
    return !isParam;
  };
  ows();
  while (i < value.length) {
    const challenge: Challenge = { scheme: token(), params: {} };
    challenges.push(challenge);
    if (i < value.length && value[i] === ' ') {
      while (value[i] === ' ') i++;
      const t68 = TOKEN68.exec(value.slice(i))?.[0];
      const after = t68 ? value.slice(i + t68.length).trimStart() : '';
      if (t68 && (after === '' || after.startsWith(','))) {
        challenge.token68 = t68;
        i += t68.length;
      } else {
        for (;;) {
          const name = token().toLowerCase();
          ows();
          if (value[i] !== '=') fail('expected "="');
          i++;
          ows();
          if (name in challenge.params) fail(`repeated parameter ${name}`);
          challenge.params[name] = value[i] === '"' ? quotedString() : token();
          ows();
          if (value[i] !== ',') break;
          const save = i;
          i++;
          if (atNewChallenge()) {
            i = save;
            break;
          }
          ows();
        }
      }
    }
    ows();
    if (i >= value.length) break;
    if (value[i] !== ',') fail('expected "," between challenges');
    i++;
    ows();
  }
  if (challenges.length === 0) fail('no challenge');
  return challenges;
}
