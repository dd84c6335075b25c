import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/**
 * Where local auth "sends" email: one file per message under `<data dir>/mail/`, readable only by this
 * user, as Supabase's local development stack catches mail in Inbucket. Local auth runs only in embedded
 * mode; the full stack's GoTrue sends real mail through its SMTP settings.
 */
export class Outbox {
  constructor(private readonly dir: string) {}

  async send(mail: Mail): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = path.join(
      this.dir,
      `${new Date().toISOString().replaceAll(':', '-')}-${process.hrtime.bigint()}.eml`,
    );
    const message = [
      `To: ${mail.to}`,
      `Subject: ${mail.subject}`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      mail.text,
      '',
    ].join('\r\n');
    await writeFile(file, message, { mode: 0o600, flag: 'wx' });
    return file;
  }
}
