/**
 * ActivationMailRequestService over the in-memory store: what each kind of account gets
 * written (a new ACTIVATION request that kills every older link, an ALREADY_ACTIVE notice),
 * and nothing at all through an unknown, expired, malformed or stale identifier.
 */
import { ActivationMailRequestService } from './activation-mail-request.service';
import { ActivationStatus } from './activation-status';
import { hashActivationToken } from './activation-token';
import { NO_ACCOUNT } from './account-mail-request';
import { MAIL_REQUEST_ID_PATTERN, MailRequestKind } from './mail-request';
import { activateDirectly, claimTokenDirectly } from './testing/activate-directly';
import { FixedClock } from './testing/fixed-clock';
import { fresh, MAILED_ACCOUNTS_NOW, pending } from './testing/mailed-accounts';
import { InMemoryUserStore } from './testing/in-memory-user-store';
import type { NewUserRecord } from './user';

const NOW = MAILED_ACCOUNTS_NOW;
const nowSeconds = Date.parse(NOW) / 1000;
const later = (seconds: number) => new Date(Date.parse(NOW) + seconds * 1000);

describe('ActivationMailRequestService', () => {
  let store: InMemoryUserStore;
  let clock: FixedClock;
  let service: ActivationMailRequestService;

  beforeEach(() => {
    store = new InMemoryUserStore();
    clock = new FixedClock(NOW);
    service = new ActivationMailRequestService(store, clock);
  });

  const alice = async () => (await store.findByUsername('alice'))!;

  describe('a pending account', () => {
    it.each([
      ['its username', { username: 'alice' }],
      ['its username in capitals, with spaces', { username: '  ALICE ' }],
      ['its address as registered', { email: 'Alice@Bücher.example' }],
      ['its address in other letter case', { email: 'ALICE@BÜCHER.EXAMPLE' }],
      ['its address with the domain in Punycode', { email: ' alice@xn--bcher-kva.EXAMPLE ' }],
      ['its address in compatibility forms', { email: 'alice@ｂücher.example' }],
    ])(
      'found by %s, gets a new activation request: back to NONE, its token gone',
      async (_case, input) => {
        await store.create(pending());

        await expect(service.request(input)).resolves.toBe('ACTIVATION');

        const user = await alice();
        expect(user).toMatchObject({
          activationStatus: ActivationStatus.NONE,
          mailRequestKind: MailRequestKind.ACTIVATION,
          mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
        });
        expect(user.activationTokenHash).toBeUndefined();
        expect(user.activationTokenExpiresAt).toBeUndefined();
        // The rest of the account is as it was: still pending, with the same expiry.
        expect(user).toMatchObject({
          email: 'Alice@Bücher.example',
          passwordHash: '$fake$00',
          expiresAt: nowSeconds + 3600,
        });
      },
    );

    it('kills the mailed link: the old token no longer activates', async () => {
      await store.create(fresh());
      const { token, claimId } = await claimTokenDirectly(store, 'alice', {
        now: clock.now(),
        tokenExpiresAt: later(3600),
        leaseExpiresAt: later(60),
      });
      await store.markMailSent('alice', claimId, NOW);

      await expect(service.request({ email: 'alice@bücher.example' })).resolves.toBe('ACTIVATION');

      const user = await alice();
      await expect(store.activate(user, hashActivationToken(token), NOW)).resolves.toBe(false);
      expect((await alice()).activationStatus).toBe(ActivationStatus.NONE);
    });

    it('replaces the open request: a second request has a new id, the first one is no longer open', async () => {
      await store.create(pending());

      await service.request({ username: 'alice' });
      const first = (await alice()).mailRequestId!;
      await expect(service.request({ email: 'alice@bücher.example' })).resolves.toBe('ACTIVATION');
      const second = (await alice()).mailRequestId!;

      expect(second).toMatch(MAIL_REQUEST_ID_PATTERN);
      expect(second).not.toBe(first);
      // The first request's execution can no longer send; the second one's can.
      const claim = (requestId: string, claimId: string) =>
        store.claimActivationMail('alice', {
          requestId,
          claimId,
          tokenHash: 'b'.repeat(64),
          tokenExpiresAt: later(3600).toISOString(),
          leaseExpiresAt: later(60).toISOString(),
          now: NOW,
        });
      await expect(claim(first, 'first')).resolves.toEqual({ claimed: false, reason: 'NOT_OPEN' });
      await expect(claim(second, 'second')).resolves.toEqual({ claimed: true });
    });

    it("drops a send attempt's live claim, so the new request's mail is not held up", async () => {
      await store.create(
        fresh({ mailClaimId: 'in-flight', mailClaimExpiresAt: later(60).toISOString() }),
      );

      await expect(service.request({ username: 'alice' })).resolves.toBe('ACTIVATION');

      const user = await alice();
      expect(user.mailClaimId).toBeUndefined();
      expect(user.mailClaimExpiresAt).toBeUndefined();
    });

    it('still counts until the very second before it expires', async () => {
      await store.create(pending({ expiresAt: nowSeconds + 1 }));

      await expect(service.request({ email: 'alice@bücher.example' })).resolves.toBe('ACTIVATION');
    });

    it('of before pending accounts expired (no expiresAt) never expires', async () => {
      await store.create(pending({ expiresAt: undefined }));
      clock.advanceSeconds(365 * 24 * 3600);

      await expect(service.request({ email: 'alice@bücher.example' })).resolves.toBe('ACTIVATION');
      await expect(service.request({ username: 'alice' })).resolves.toBe('ACTIVATION');
    });
  });

  describe('an active account', () => {
    async function activeAlice(): Promise<NewUserRecord> {
      await store.create(fresh());
      await activateDirectly(store, 'alice', clock.now());
      return (await alice()) as NewUserRecord;
    }

    it.each([
      ['its username', { username: 'Alice' }],
      ['its address', { email: 'alice@XN--BCHER-KVA.example' }],
    ])(
      'found by %s, gets an "already active" notice request and stays active',
      async (_case, input) => {
        const before = await activeAlice();

        await expect(service.request(input)).resolves.toBe('ALREADY_ACTIVE');

        const after = await alice();
        expect(after).toMatchObject({
          activationStatus: ActivationStatus.DONE,
          mailRequestKind: MailRequestKind.ALREADY_ACTIVE,
          mailRequestId: expect.stringMatching(MAIL_REQUEST_ID_PATTERN),
        });
        // Nothing of the activation changes: the notice has no link that changes anything.
        const { mailRequestId: _id, mailRequestKind: _kind, ...rest } = after;
        expect(rest).toEqual(before);
      },
    );

    it('activated while its request was under way: NOTHING, and it stays as it was', async () => {
      await store.create(fresh());
      // The service read the account while it was still pending; its click came first.
      const stale = await alice();
      await activateDirectly(store, 'alice', clock.now());
      const before = store.all();
      jest.spyOn(store, 'findByUsername').mockResolvedValueOnce(stale);

      await expect(service.request({ username: 'alice' })).resolves.toBe('NOTHING');

      expect(store.all()).toEqual(before);
    });

    it('gets a new notice request for each request', async () => {
      await activeAlice();

      await service.request({ username: 'alice' });
      const first = (await alice()).mailRequestId;
      await service.request({ username: 'alice' });

      expect((await alice()).mailRequestId).not.toBe(first);
    });
  });

  describe('no mail', () => {
    /** Spies on the writes: the only one allowed is the decoy's, to NO_ACCOUNT. */
    const writes = () => jest.spyOn(store, 'requestMail');
    const expectNoAccountWritten = (spy: jest.SpyInstance) => {
      for (const [username] of spy.mock.calls) expect(username).toBe(NO_ACCOUNT);
    };

    it.each([
      ['an unknown address', { email: 'nobody@example.org' }],
      ['an unknown username', { username: 'nobody' }],
    ])('for %s: NOTHING, and nothing written', async (_case, input) => {
      await store.create(pending());
      const before = store.all();
      const requestMail = writes();

      await expect(service.request(input)).resolves.toBe('NOTHING');

      expect(store.all()).toEqual(before);
      expectNoAccountWritten(requestMail);
    });

    it.each([
      ['an address that is none', { email: 'not an address' }],
      ['an address no mail can reach', { email: 'jürgen@example.org' }],
      ['an empty address', { email: '' }],
      ['a username that is too short', { username: 'al' }],
      ['a username with characters no username has', { username: 'alice@bücher.example' }],
      ['an empty username', { username: '   ' }],
    ])('for %s: NOTHING, without looking up any account', async (_case, input) => {
      await store.create(pending());
      const before = store.all();
      const findByUsername = jest.spyOn(store, 'findByUsername');
      const findEmailClaim = jest.spyOn(store, 'findEmailClaim');
      const requestMail = writes();

      await expect(service.request(input)).resolves.toBe('NOTHING');

      expect(store.all()).toEqual(before);
      expect(findEmailClaim).not.toHaveBeenCalled();
      expectNoAccountWritten(findByUsername);
      expectNoAccountWritten(requestMail);
    });

    it.each([
      ['by its address', { email: 'alice@bücher.example' }],
      ['by its username', { username: 'alice' }],
    ])('for an expired pending account, found %s: NOTHING', async (_case, input) => {
      await store.create(pending());
      clock.advanceSeconds(3600);
      const before = store.all();
      const requestMail = writes();

      await expect(service.request(input)).resolves.toBe('NOTHING');

      expect(store.all()).toEqual(before);
      expectNoAccountWritten(requestMail);
    });

    it("does not follow an expired pending account's e-mail claim to an account", async () => {
      await store.create(pending());
      clock.advanceSeconds(3600);
      const findByUsername = jest.spyOn(store, 'findByUsername');

      await expect(service.request({ email: 'alice@bücher.example' })).resolves.toBe('NOTHING');

      expectNoAccountWritten(findByUsername);
    });

    it('for an expired pending account whose e-mail claim is (oddly) live: NOTHING', async () => {
      // The user item expired but its claim has no expiry (as a claim from before expiry):
      // the account itself decides.
      await store.create(pending({ expiresAt: nowSeconds }));
      store.putLegacyEmailClaim('alice@xn--bcher-kva.example', 'alice');
      const before = store.all();
      const requestMail = writes();

      await expect(service.request({ email: 'alice@bücher.example' })).resolves.toBe('NOTHING');

      expect(store.all()).toEqual(before);
      expectNoAccountWritten(requestMail);
    });

    it("through a stale claim: the claim's account has another address now", async () => {
      await store.create(pending({ email: 'new@example.org' }));
      store.putLegacyEmailClaim('gone@example.org', 'alice');
      const before = store.all();
      const requestMail = writes();

      await expect(service.request({ email: 'gone@example.org' })).resolves.toBe('NOTHING');
      await expect(service.request({ email: 'Gone@Example.org' })).resolves.toBe('NOTHING');

      expect(store.all()).toEqual(before);
      expectNoAccountWritten(requestMail);
      // By its username, or its address now, the account still gets its mail.
      await expect(service.request({ email: 'new@example.org' })).resolves.toBe('ACTIVATION');
    });

    it('through a claim whose account holds an address from before the rules (a non-ASCII local part)', async () => {
      store.putLegacyUser(pending({ email: 'ålice@example.org' }));
      store.putLegacyEmailClaim('alice@example.org', 'alice');
      const before = store.all();

      await expect(service.request({ email: 'alice@example.org' })).resolves.toBe('NOTHING');
      expect(store.all()).toEqual(before);
      // By its username the account still gets its request (its mail fails at delivery).
      await expect(service.request({ username: 'alice' })).resolves.toBe('ACTIVATION');
    });

    it('through a claim of a username that has no account (any more)', async () => {
      store.putLegacyEmailClaim('ghost@example.org', 'ghost');

      await expect(service.request({ email: 'ghost@example.org' })).resolves.toBe('NOTHING');
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
      for (const spy of spies) spy.mockRestore();
      return counts;
    };

    it('one claim read, one user read and one conditional write, by address and by username', async () => {
      await store.create(pending());
      await store.create(fresh({ username: 'bob', email: 'bob@example.org' }));
      await activateDirectly(store, 'bob', clock.now());
      store.putLegacyEmailClaim('gone@example.org', 'alice');

      const byAddress = [
        await callsFor({ email: 'alice@bücher.example' }),
        await callsFor({ email: 'bob@example.org' }),
        await callsFor({ email: 'nobody@example.org' }),
        await callsFor({ email: 'gone@example.org' }),
      ];
      const byUsername = [
        await callsFor({ username: 'alice' }),
        await callsFor({ username: 'bob' }),
        await callsFor({ username: 'nobody' }),
      ];

      for (const counts of byAddress) expect(counts).toEqual([1, 1, 1]);
      for (const counts of byUsername) expect(counts).toEqual([0, 1, 1]);
    });
  });
});
