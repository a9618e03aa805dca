/**
 * PasswordResetRequestService over the in-memory store: every live account (pending or
 * active) gets a PASSWORD_RESET request that kills its older reset links, and an unknown,
 * expired, malformed or stale identifier gets nothing written, through the same calls.
 */
import { ActivationStatus } from './activation-status';
import { mintActivationToken } from './activation-token';
import { NO_ACCOUNT } from './account-mail-request';
import { MAIL_REQUEST_ID_PATTERN, MailRequestKind, newMailRequest } from './mail-request';
import { PasswordResetRequestService } from './password-reset-request.service';
import { activateDirectly } from './testing/activate-directly';
import { FixedClock } from './testing/fixed-clock';
import { fresh, MAILED_ACCOUNTS_NOW, pending } from './testing/mailed-accounts';
import { InMemoryUserStore } from './testing/in-memory-user-store';
import type { UserRecord } from './user';

const NOW = MAILED_ACCOUNTS_NOW;
const nowSeconds = Date.parse(NOW) / 1000;
const later = (seconds: number) => new Date(Date.parse(NOW) + seconds * 1000).toISOString();

describe('PasswordResetRequestService', () => {
  let store: InMemoryUserStore;
  let clock: FixedClock;
  let service: PasswordResetRequestService;

  beforeEach(() => {
    store = new InMemoryUserStore();
    clock = new FixedClock(NOW);
    service = new PasswordResetRequestService(store, clock);
  });

  const alice = async () => (await store.findByUsername('alice'))!;

  /** The reset mail's claim for `requestId`, as the mail step takes it. */
  const claimResetMail = (requestId: string, claimId: string, tokenHash: string) =>
    store.claimPasswordResetMail('alice', {
      claimId,
      requestId,
      tokenHash,
      tokenExpiresAt: later(3600),
      leaseExpiresAt: later(60),
      now: NOW,
    });

  /** Everything but the open request, which is what a reset request writes. */
  const withoutRequest = ({ mailRequestId: _id, mailRequestKind: _kind, ...rest }: UserRecord) =>
    rest;

  describe('a pending account', () => {
    it.each([
      ['its username', { username: 'alice' }],
      ['its username in capitals, with spaces', { username: '  ALICE ' }],
      ['its address as registered', { email: 'Alice@Bücher.example' }],
      ['its address in other letter case', { email: 'ALICE@BÜCHER.EXAMPLE' }],
      ['its address with the domain in Punycode', { email: ' alice@xn--bcher-kva.EXAMPLE ' }],
      ['its address in compatibility forms', { email: 'alice@ｂücher.example' }],
    ])(
      'found by %s, gets a PASSWORD_RESET request and stays pending as it was',
      async (_case, input) => {
        await store.create(pending());
        const before = await alice();

        await expect(service.request(input)).resolves.toBe(true);

        const after = await alice();
        expect(after).toMatchObject({
          mailRequestKind: MailRequestKind.PASSWORD_RESET,
          mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
        });
        // Still pending, with its activation link and expiry: only completing the reset
        // activates it.
        expect(withoutRequest(after)).toEqual(before);
        expect(after).toMatchObject({
          activationStatus: ActivationStatus.MAIL_SENT,
          activationTokenHash: 'a'.repeat(64),
          expiresAt: nowSeconds + 3600,
        });
      },
    );

    it('in status NONE gets one too, replacing its open activation request', async () => {
      await store.create(fresh());
      await store.requestMail('alice', newMailRequest(MailRequestKind.ACTIVATION), NOW);

      await expect(service.request({ email: 'alice@bücher.example' })).resolves.toBe(true);

      expect(await alice()).toMatchObject({
        activationStatus: ActivationStatus.NONE,
        mailRequestKind: MailRequestKind.PASSWORD_RESET,
      });
    });

    it('still counts until the very second before it expires', async () => {
      await store.create(pending({ expiresAt: nowSeconds + 1 }));

      await expect(service.request({ email: 'alice@bücher.example' })).resolves.toBe(true);
      await expect(service.request({ username: 'alice' })).resolves.toBe(true);
    });

    it('of before pending accounts expired (no expiresAt) never expires', async () => {
      await store.create(pending({ expiresAt: undefined }));
      clock.advanceSeconds(365 * 24 * 3600);

      await expect(service.request({ email: 'alice@bücher.example' })).resolves.toBe(true);
      await expect(service.request({ username: 'alice' })).resolves.toBe(true);
    });
  });

  describe('an active account', () => {
    beforeEach(async () => {
      await store.create(fresh());
      await activateDirectly(store, 'alice', clock.now());
    });

    it.each([
      ['its username', { username: 'Alice' }],
      ['its address', { email: 'alice@XN--BCHER-KVA.example' }],
    ])('found by %s, gets a PASSWORD_RESET request and stays active', async (_case, input) => {
      const before = await alice();

      await expect(service.request(input)).resolves.toBe(true);

      const after = await alice();
      expect(after).toMatchObject({
        activationStatus: ActivationStatus.DONE,
        mailRequestKind: MailRequestKind.PASSWORD_RESET,
        mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
      });
      // The password is untouched until the link is used.
      expect(withoutRequest(after)).toEqual(before);
    });

    it('kills the older reset link: its token goes, its request is no longer open', async () => {
      await service.request({ username: 'alice' });
      const first = (await alice()).mailRequestId!;
      await claimResetMail(first, 'first', mintActivationToken().hash);
      await store.markNoticeSent('alice', 'first');
      expect((await alice()).passwordResetTokenHash).toMatch(/^[0-9a-f]{64}$/);

      await expect(service.request({ email: 'alice@bücher.example' })).resolves.toBe(true);

      const user = await alice();
      const second = user.mailRequestId!;
      expect(second).toMatch(MAIL_REQUEST_ID_PATTERN);
      expect(second).not.toBe(first);
      expect(user.passwordResetTokenHash).toBeUndefined();
      expect(user.passwordResetTokenExpiresAt).toBeUndefined();
      // The first request's execution can no longer send; the second one's can.
      await expect(claimResetMail(first, 'late', 'b'.repeat(64))).resolves.toEqual({
        claimed: false,
        reason: 'NOT_OPEN',
      });
      await expect(claimResetMail(second, 'second', 'c'.repeat(64))).resolves.toEqual({
        claimed: true,
      });
    });

    it("drops a send attempt's live claim, so the new request's mail is not held up", async () => {
      await service.request({ username: 'alice' });
      await claimResetMail((await alice()).mailRequestId!, 'in-flight', 'b'.repeat(64));

      await expect(service.request({ username: 'alice' })).resolves.toBe(true);

      const user = await alice();
      expect(user.mailClaimId).toBeUndefined();
      expect(user.mailClaimExpiresAt).toBeUndefined();
    });
  });

  describe('no request', () => {
    /** Spies on the writes: the only one allowed is the decoy's, to NO_ACCOUNT. */
    const writes = () => jest.spyOn(store, 'requestMail');
    const expectNoAccountWritten = (spy: jest.SpyInstance) => {
      for (const [username] of spy.mock.calls) expect(username).toBe(NO_ACCOUNT);
    };

    it.each([
      ['an unknown address', { email: 'nobody@example.org' }],
      ['an unknown username', { username: 'nobody' }],
    ])('for %s: false, and nothing written', async (_case, input) => {
      await store.create(pending());
      const before = store.all();
      const requestMail = writes();

      await expect(service.request(input)).resolves.toBe(false);

      expect(store.all()).toEqual(before);
      expect(requestMail).toHaveBeenCalledTimes(1);
      expectNoAccountWritten(requestMail);
    });

    it.each([
      ['an address that is none', { email: 'not an address' }],
      ['an address no mail can reach', { email: 'jürgen@example.org' }],
      ['an empty address', { email: '' }],
      ['a username that is too short', { username: 'al' }],
      ['a username with characters no username has', { username: 'alice@bücher.example' }],
      ['the decoy of no account', { username: NO_ACCOUNT }],
      ['an empty username', { username: '   ' }],
    ])('for %s: false, without looking up any account', async (_case, input) => {
      await store.create(pending());
      const before = store.all();
      const findByUsername = jest.spyOn(store, 'findByUsername');
      const findEmailClaim = jest.spyOn(store, 'findEmailClaim');
      const requestMail = writes();

      await expect(service.request(input)).resolves.toBe(false);

      expect(store.all()).toEqual(before);
      expect(findEmailClaim).not.toHaveBeenCalled();
      expectNoAccountWritten(findByUsername);
      expectNoAccountWritten(requestMail);
    });

    it.each([
      ['by its address', { email: 'alice@bücher.example' }],
      ['by its username', { username: 'alice' }],
    ])('for an expired pending account, found %s: false', async (_case, input) => {
      await store.create(pending());
      clock.advanceSeconds(3600);
      const before = store.all();
      const requestMail = writes();

      await expect(service.request(input)).resolves.toBe(false);

      expect(store.all()).toEqual(before);
      expect(requestMail).toHaveBeenCalledTimes(1);
      expectNoAccountWritten(requestMail);
    });

    it('for an expired pending account whose e-mail claim is (oddly) live: false', async () => {
      await store.create(pending({ expiresAt: nowSeconds }));
      store.putLegacyEmailClaim('alice@xn--bcher-kva.example', 'alice');
      const before = store.all();
      const requestMail = writes();

      await expect(service.request({ email: 'alice@bücher.example' })).resolves.toBe(false);

      expect(store.all()).toEqual(before);
      expectNoAccountWritten(requestMail);
    });

    it("through a stale claim: the claim's account has another address now", async () => {
      await store.create(pending({ email: 'new@example.org' }));
      store.putLegacyEmailClaim('gone@example.org', 'alice');
      const before = store.all();
      const requestMail = writes();

      await expect(service.request({ email: 'gone@example.org' })).resolves.toBe(false);

      expect(store.all()).toEqual(before);
      expectNoAccountWritten(requestMail);
      // By its address now, the account still gets its request.
      await expect(service.request({ email: 'new@example.org' })).resolves.toBe(true);
    });

    it('through a claim of a username that has no account (any more)', async () => {
      store.putLegacyEmailClaim('ghost@example.org', 'ghost');

      await expect(service.request({ email: 'ghost@example.org' })).resolves.toBe(false);
      expect(store.all()).toEqual([]);
    });
  });

  describe('the calls it makes, whatever the account (so that timing tells nothing)', () => {
    const callsFor = async (input: { email: string } | { username: string }) => {
      const spies = [
        jest.spyOn(store, 'findEmailClaim'),
        jest.spyOn(store, 'findByUsername'),
        jest.spyOn(store, 'requestMail'),
      ];
      await service.request(input);
      const counts = spies.map((spy) => spy.mock.calls.length);
      const write = spies[2]!.mock.calls[0];
      for (const spy of spies) spy.mockRestore();
      return { counts, write };
    };

    beforeEach(async () => {
      await store.create(pending());
      await store.create(fresh({ username: 'bob', email: 'bob@example.org' }));
      await activateDirectly(store, 'bob', clock.now());
      await store.create(
        pending({ username: 'carol', email: 'carol@example.org', expiresAt: nowSeconds - 1 }),
      );
      store.putLegacyEmailClaim('gone@example.org', 'alice');
    });

    const byAddress = [
      ['a pending account', 'alice@bücher.example'],
      ['an active account', 'bob@example.org'],
      ['an expired pending account', 'carol@example.org'],
      ['no account', 'nobody@example.org'],
      ['a stale claim', 'gone@example.org'],
    ];
    const byUsername = [
      ['a pending account', 'alice'],
      ['an active account', 'bob'],
      ['an expired pending account', 'carol'],
      ['no account', 'nobody'],
    ];

    it.each(byAddress)(
      'by address, for %s: one claim read, one user read, one conditional write',
      async (_case, email) => {
        const { counts } = await callsFor({ email: email! });

        expect(counts).toEqual([1, 1, 1]);
      },
    );

    it.each(byUsername)(
      'by username, for %s: one user read and one conditional write',
      async (_case, username) => {
        const { counts } = await callsFor({ username: username! });

        expect(counts).toEqual([0, 1, 1]);
      },
    );

    it.each([
      ...byAddress.map(([what, email]) => [`by address, ${what}`, { email: email! }] as const),
      ...byUsername.map(
        ([what, username]) => [`by username, ${what}`, { username: username! }] as const,
      ),
    ])('writes a request of one shape, %s', async (_case, input) => {
      const { write } = await callsFor(input);

      expect(write).toEqual([
        expect.any(String),
        {
          id: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
          kind: MailRequestKind.PASSWORD_RESET,
        },
        NOW,
      ]);
    });
  });
});
