/**
 * The SES stand-in: aws-ses-v2-local in this process, on loopback. The send-mail Lambda
 * talks to it with the real @aws-sdk/client-ses (only the endpoint differs); a developer
 * reads and clicks the mails in its web inbox, and tests read them as JSON at `/store`.
 *
 * Its mail store is a module-level array: every instance in one process shares it, and it
 * is kept in memory only (a restart empties the inbox).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import startSesServer from 'aws-ses-v2-local';
import { LocalSetupError, portInUse } from './dynamodb-local';

const LOOPBACK = '127.0.0.1';

/** A mail as aws-ses-v2-local keeps it (the fields we read). */
export interface StoredMail {
  readonly messageId: string;
  /** The SES `Source`, e.g. `Digital Card Store <no-reply@card-store.example>`. */
  readonly from: string;
  readonly destination: {
    readonly to: readonly string[];
    readonly cc: readonly string[];
    readonly bcc: readonly string[];
  };
  readonly subject: string;
  readonly body: { readonly text?: string; readonly html?: string };
  /** Epoch seconds. */
  readonly at: number;
}

export interface LocalSesFaults {
  /** The share of API calls (SendEmail) refused with `Throttling`, 0 to 1; 0 by default. */
  readonly throttleRate?: number;
}

/**
 * SES's answer when a sending rate is exceeded (API v1, the query protocol): the SDK
 * reads it as a `Throttling` service error with HTTP 400, which the mailer counts as
 * "certainly not sent".
 */
const THROTTLING_ANSWER =
  '<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type>' +
  '<Code>Throttling</Code><Message>Maximum sending rate exceeded.</Message></Error>' +
  '<RequestId>local-ses-throttling</RequestId></ErrorResponse>';

/**
 * Puts a fault in front of aws-ses-v2-local's handler: the share `rate` of API calls
 * (`POST /`, where API v1 sends SendEmail) is answered with Throttling and never reaches
 * the inbox. The inbox and `/store` are untouched. Spread evenly and deterministic, so a
 * test can count on it: call n is refused when ⌈(n+1)·rate⌉ > ⌈n·rate⌉ (0.5 refuses the
 * 1st, 3rd, 5th… call; 0.3 three calls in every ten, the first of them the 1st).
 */
function refuseSomeSends(server: Server, rate: number): void {
  const [handle] = server.listeners('request') as ((...args: unknown[]) => void)[];
  server.removeAllListeners('request');
  let calls = 0;
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const isApiCall = request.method === 'POST' && request.url === '/';
    const n = isApiCall ? calls++ : 0;
    if (!isApiCall || Math.ceil((n + 1) * rate) <= Math.ceil(n * rate)) {
      handle!(request, response);
      return;
    }
    request.resume();
    request.once('end', () =>
      response.writeHead(400, { 'content-type': 'text/xml' }).end(THROTTLING_ANSWER),
    );
  });
}

export class LocalSes {
  private constructor(
    private readonly server: Server,
    /** The SES API for the SDK. */
    readonly endpoint: string,
  ) {}

  /** The web inbox (the same server). */
  get inboxUrl(): string {
    return `${this.endpoint}/`;
  }

  /** @param port 0 picks a free port (tests) */
  static async start(port: number, faults: LocalSesFaults = {}): Promise<LocalSes> {
    let server: Server;
    try {
      server = await startSesServer({ host: LOOPBACK, port });
    } catch (error) {
      throw new LocalSetupError(`The local SES did not start: ${String(error)}`);
    }
    if (faults.throttleRate) refuseSomeSends(server, faults.throttleRate);
    // Express 5 hands a listen error to the callback, so the promise resolves anyway.
    if (!server.listening) {
      server.close();
      throw portInUse('The local SES', port, 'SES_LOCAL_PORT');
    }
    const address = server.address() as AddressInfo;
    return new LocalSes(server, `http://${LOOPBACK}:${address.port}`);
  }

  /** Every mail in the inbox, oldest first. */
  async mails(): Promise<StoredMail[]> {
    const response = await fetch(`${this.endpoint}/store`);
    if (!response.ok) throw new Error(`local SES /store answered ${response.status}`);
    const { emails } = (await response.json()) as { emails: StoredMail[] };
    return emails;
  }

  /** The mails to one address, oldest first. */
  async mailsTo(address: string): Promise<StoredMail[]> {
    return (await this.mails()).filter((mail) => mail.destination.to.includes(address));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
