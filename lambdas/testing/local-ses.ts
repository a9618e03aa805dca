/**
 * aws-ses-v2-local in-process on a free loopback port, for the Lambdas' tests: the SES API
 * the SesMailer calls, and the mails it took as JSON at `/store`.
 *
 * The package keeps its mails in a module-level store; jest loads modules per test file,
 * so each file has its own. `clear()` empties it between tests.
 */
import type { Server } from 'node:http';
import startSesServer from 'aws-ses-v2-local';
import { freePort } from '../../test/support/ports';

/** One mail as `/store` shows it (the fields the tests read). */
export interface StoredMail {
  readonly messageId: string;
  /** The SES `Source`, e.g. `Digital Card Store <no-reply@card-store.example>`. */
  readonly from: string;
  readonly destination: { readonly to: string[]; readonly cc: string[]; readonly bcc: string[] };
  readonly subject: string;
  readonly body: { readonly html?: string; readonly text?: string };
  /** Epoch seconds. */
  readonly at: number;
}

export class LocalSes {
  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(): Promise<LocalSes> {
    const port = await freePort();
    const server = await startSesServer({ host: '127.0.0.1', port });
    return new LocalSes(server, `http://127.0.0.1:${port}`);
  }

  async mails(): Promise<StoredMail[]> {
    const response = await fetch(`${this.endpoint}/store`);
    const store = (await response.json()) as { emails: StoredMail[] };
    return store.emails;
  }

  async mailsTo(address: string): Promise<StoredMail[]> {
    return (await this.mails()).filter((mail) => mail.destination.to.includes(address));
  }

  async clear(): Promise<void> {
    await fetch(`${this.endpoint}/clear-store`, { method: 'POST' });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }
}
