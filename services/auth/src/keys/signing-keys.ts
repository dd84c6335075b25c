import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';

/** What jose signs and verifies with (a CryptoKey in Node 20). */
type KeyLike = Exclude<Awaited<ReturnType<typeof importJWK>>, Uint8Array>;

const ALG = 'ES256';
/** Keys kept for verification after a rotation: enough for tokens signed before it to run out. */
const MAX_KEYS = 3;

interface StoredKey {
  kid: string;
  createdAt: string;
  privateJwk: JWK;
}

export interface SigningKey {
  kid: string;
  key: KeyLike;
}

/**
 * The ES256 signing keys, persisted (mode 600) under the data directory. The first key signs; all of
 * them are published in the JWKS, so rotating adds a key without invalidating tokens already issued.
 */
export class SigningKeys {
  private constructor(
    private readonly file: string,
    private stored: StoredKey[],
    private current: SigningKey,
  ) {}

  static async open(dataDir: string): Promise<SigningKeys> {
    const file = path.join(dataDir, 'auth', 'signing-keys.json');
    let stored: StoredKey[];
    try {
      stored = JSON.parse(await readFile(file, 'utf8')) as StoredKey[];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      stored = [await newKey()];
      await save(file, stored);
    }
    return new SigningKeys(file, stored, await toSigningKey(stored[0]!));
  }

  /** Adds a new signing key; the previous ones stay in the JWKS. Returns the new key id. */
  async rotate(): Promise<string> {
    this.stored = [await newKey(), ...this.stored].slice(0, MAX_KEYS);
    await save(this.file, this.stored);
    this.current = await toSigningKey(this.stored[0]!);
    return this.current.kid;
  }

  signing(): SigningKey {
    return this.current;
  }

  jwks(): { keys: JWK[] } {
    return {
      keys: this.stored.map(({ kid, privateJwk }) => {
        const { d: _private, ...publicJwk } = privateJwk;
        return { ...publicJwk, kid, alg: ALG, use: 'sig', key_ops: ['verify'] };
      }),
    };
  }

  async verificationKey(kid: string): Promise<KeyLike | undefined> {
    const found = this.stored.find((k) => k.kid === kid);
    if (!found) return undefined;
    const { d: _private, ...publicJwk } = found.privateJwk;
    return (await importJWK({ ...publicJwk, alg: ALG }, ALG)) as KeyLike;
  }
}

async function newKey(): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  return { kid: randomUUID(), createdAt: new Date().toISOString(), privateJwk: await exportJWK(privateKey) };
}

async function toSigningKey(stored: StoredKey): Promise<SigningKey> {
  return { kid: stored.kid, key: (await importJWK({ ...stored.privateJwk, alg: ALG }, ALG)) as KeyLike };
}

async function save(file: string, keys: StoredKey[]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}
