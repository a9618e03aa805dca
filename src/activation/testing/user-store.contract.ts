/**
 * The UserStore contract for one e-mail identity per mailbox, the send claim and
 * activation, as one jest suite run against
 * every implementation: the in-memory fake (so the core's tests prove something) and the
 * DynamoDB adapter (so the fake tells the truth about it). Import it only from spec files.
 */
import {
  type ActivationMailClaim,
  ActivationStatus,
  EmailTakenError,
  MailRequestKind,
  UsernameTakenError,
  mintActivationToken,
  newMailRequest,
  type NewUserRecord,
  type UserStore,
} from '..';

export interface UserStoreContractSubject {
  readonly store: UserStore;
  /**
   * Whether the store holds anything at all under this username, however incomplete (a
   * conditional write that created a half item must not go unnoticed). Defaults to
   * `findByUsername`.
   */
  hasAnyItem?(username: string): Promise<boolean>;
  /**
   * Stores an email claim as the rules before `emailKey` did: under `key` exactly as
   * given (an old key, see `legacyEmailKey`), for `username`.
   */
  putLegacyEmailClaim(key: string, username: string): Promise<void>;
  /** Stores a user item as it is, whatever today's rules say of it (no claim is written). */
  putLegacyUser(user: NewUserRecord): Promise<void>;
}

const T0 = Date.parse('2026-03-01T09:00:00.000Z');
const LEASE_SECONDS = 60;
const TOKEN_TTL_SECONDS = 3600;

/** ISO instant `seconds` after T0. */
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

let counter = 0;

function claimAt(seconds: number, claimId: string, tokenHash: string): ActivationMailClaim {
  return {
    claimId,
    tokenHash,
    tokenExpiresAt: at(seconds + TOKEN_TTL_SECONDS),
    leaseExpiresAt: at(seconds + LEASE_SECONDS),
    now: at(seconds),
  };
}

/**
 * @param subject called once per test, after the suite's `beforeAll` hooks; may hand out
 *   a fresh store each time or a shared one (every test uses usernames of its own).
 */
export function describeUserStoreContract(subject: () => UserStoreContractSubject): void {
  describe('UserStore contract: send claim and activation', () => {
    let store: UserStore;
    let hasAnyItem: (username: string) => Promise<boolean>;
    let putLegacyEmailClaim: (key: string, username: string) => Promise<void>;
    let putLegacyUser: (user: NewUserRecord) => Promise<void>;

    beforeEach(() => {
      const current = subject();
      store = current.store;
      hasAnyItem =
        current.hasAnyItem?.bind(current) ??
        (async (username) => (await store.findByUsername(username)) !== undefined);
      putLegacyEmailClaim = current.putLegacyEmailClaim.bind(current);
      putLegacyUser = current.putLegacyUser.bind(current);
    });

    /** A fresh user (unique username and email) in the given state. */
    async function newUser(changes: Partial<NewUserRecord> = {}): Promise<NewUserRecord> {
      counter += 1;
      const username = `contract-${counter}-${Math.random().toString(36).slice(2, 8)}`;
      const user: NewUserRecord = {
        username,
        email: `${username}@example.org`,
        name: 'Alice Liddell',
        passwordHash: '$fake$00',
        activationStatus: ActivationStatus.NONE,
        activationUrlBase: 'https://cards.example/activate',
        createdAt: at(-60),
        ...changes,
      };
      await store.create(user);
      return user;
    }

    /** A user whose mail went out at T0 (claimed and marked MAIL_SENT); returns its token hash. */
    async function mailedUser(): Promise<{ user: NewUserRecord; tokenHash: string }> {
      const user = await newUser();
      const { hash } = mintActivationToken();
      await expect(
        store.claimActivationMail(user.username, claimAt(0, 'mailer', hash)),
      ).resolves.toEqual({ claimed: true });
      await expect(store.markMailSent(user.username, 'mailer', at(1))).resolves.toBe(true);
      return { user, tokenHash: hash };
    }

    describe('create: one e-mail identity per mailbox', () => {
      /** A local part no other test uses. */
      const freshLocal = () => `id-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

      it('refuses a second form of one mailbox (Unicode, Punycode, compatibility) with EmailTakenError, storing nothing of it', async () => {
        const local = freshLocal();
        await newUser({ email: `${local}@b\u00fccher.example` });

        for (const email of [
          `${local}@xn--bcher-kva.example`,
          `${local.toUpperCase()}@\u{1D41B}\u00fccher.example`,
        ]) {
          const other = `${local}-${email.length}`;
          await expect(newUser({ username: other, email })).rejects.toBeInstanceOf(EmailTakenError);
          await expect(hasAnyItem(other)).resolves.toBe(false);
        }
      });

      it.each([
        [
          'the canonical Unicode form of a Punycode address',
          'b\u00fccher.example',
          'xn--bcher-kva.example',
        ],
        ['the form typed now (a fullwidth letter)', '\uff58.org', '\uff58.org'],
        [
          'the canonical Unicode form of a compatibility form',
          'b\u00fccher.example',
          '\u{1D41B}\u00fccher.example',
        ],
      ])(
        'refuses an address whose old key (%s) has a claim, storing nothing of it',
        async (_case, oldDomain, newDomain) => {
          const local = freshLocal();
          await putLegacyEmailClaim(`${local}@${oldDomain}`, 'an-older-user');
          const username = `${local}-new`;

          await expect(
            newUser({ username, email: `${local.toUpperCase()}@${newDomain}` }),
          ).rejects.toBeInstanceOf(EmailTakenError);
          await expect(hasAnyItem(username)).resolves.toBe(false);
        },
      );

      it('lets an address register when old-key claims exist only for other mailboxes', async () => {
        const local = freshLocal();
        await putLegacyEmailClaim(`${local}@m\u00fcller.example`, 'an-older-user');

        await expect(newUser({ email: `${local}@b\u00fccher.example` })).resolves.toMatchObject({
          email: `${local}@b\u00fccher.example`,
        });
      });
    });

    describe('pending accounts that expired', () => {
      const seconds = (offset: number) => Math.floor(T0 / 1000) + offset;

      it('are taken over by a registration of the same username, whatever is left of them', async () => {
        const old = await newUser({ expiresAt: seconds(-1) });

        await store.create({
          ...old,
          email: `new-${old.email}`,
          createdAt: at(0),
          expiresAt: seconds(600),
        });

        await expect(store.findByUsername(old.username)).resolves.toMatchObject({
          email: `new-${old.email}`,
          expiresAt: seconds(600),
        });
      });

      it('keep their username and address until they expire', async () => {
        const pending = await newUser({ expiresAt: seconds(600) });

        await expect(
          store.create({ ...pending, email: `other-${pending.email}`, createdAt: at(0) }),
        ).rejects.toBeInstanceOf(UsernameTakenError);
        await expect(
          store.create({ ...pending, username: `${pending.username}-2`, createdAt: at(0) }),
        ).rejects.toBeInstanceOf(EmailTakenError);
      });

      it('free their address for another username', async () => {
        const old = await newUser({ expiresAt: seconds(-1) });

        await store.create({ ...old, username: `${old.username}-new`, createdAt: at(0) });

        await expect(store.findByUsername(`${old.username}-new`)).resolves.toMatchObject({
          email: old.email,
        });
      });

      it('cannot be activated any more', async () => {
        const user = await newUser({ expiresAt: seconds(5) });
        const { hash } = mintActivationToken();
        await store.claimActivationMail(user.username, claimAt(0, 'late', hash));

        await expect(store.activate(user, hash, at(5))).resolves.toBe(false);
        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          activationStatus: ActivationStatus.NONE,
        });
      });

      it('lose their expiry on activation, the address too: an active account stays', async () => {
        const user = await newUser({ expiresAt: seconds(600) });
        const { hash } = mintActivationToken();
        await store.claimActivationMail(user.username, claimAt(0, 'ok', hash));

        await expect(store.activate(user, hash, at(10))).resolves.toBe(true);

        expect((await store.findByUsername(user.username))?.expiresAt).toBeUndefined();
        const later = { createdAt: at(700), expiresAt: seconds(1300) };
        await expect(store.create({ ...user, ...later })).rejects.toBeInstanceOf(
          UsernameTakenError,
        );
        await expect(
          store.create({ ...user, ...later, username: `${user.username}-2` }),
        ).rejects.toBeInstanceOf(EmailTakenError);
      });
    });

    describe('replacing a pending account (takeover, typo fix)', () => {
      const seconds = (offset: number) => Math.floor(T0 / 1000) + offset;

      it("takes a pending account's address over: that account is gone, the claim is the newcomer's", async () => {
        const squatter = await newUser({ expiresAt: seconds(600) });
        const owner = { ...squatter, username: `${squatter.username}-owner`, createdAt: at(0) };

        await store.create(owner, { username: squatter.username });

        await expect(store.findByUsername(squatter.username)).resolves.toBeUndefined();
        await expect(store.findEmailClaim(owner.email)).resolves.toEqual({
          username: owner.username,
          expiresAt: seconds(600),
        });
      });

      it('refuses a takeover once the account is active, or when the claim is no longer its', async () => {
        const { user, tokenHash } = await mailedUser();
        await store.activate(user, tokenHash, at(2));
        const other = await newUser({ expiresAt: seconds(600) });

        await expect(
          store.create(
            { ...user, username: `${user.username}-x`, createdAt: at(3) },
            { username: user.username },
          ),
        ).rejects.toBeInstanceOf(EmailTakenError);
        await expect(
          store.create(
            { ...user, username: `${user.username}-y`, createdAt: at(3) },
            { username: other.username },
          ),
        ).rejects.toBeInstanceOf(EmailTakenError);
        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          activationStatus: ActivationStatus.DONE,
        });
        expect(await hasAnyItem(`${user.username}-x`)).toBe(false);
        await expect(store.findByUsername(other.username)).resolves.toBeDefined();
      });

      it('moves a pending account to a new address (the typo fix): the old address is free, the token gone', async () => {
        const { user } = await mailedUser();
        const before = (await store.findByUsername(user.username)) as NewUserRecord;
        const request = newMailRequest(MailRequestKind.ACTIVATION);
        const { activationTokenHash: _hash, activationTokenExpiresAt: _end, ...kept } = before;
        const next = {
          ...kept,
          email: `fixed-${user.email}`,
          activationStatus: ActivationStatus.NONE,
          createdAt: at(5),
          mailRequestId: request.id,
          mailRequestKind: request.kind,
        };

        await store.updatePending(before, next);

        const after = await store.findByUsername(user.username);
        expect(after).toMatchObject({ email: next.email, mailRequestId: request.id });
        expect(after?.activationTokenHash).toBeUndefined();
        await expect(store.findEmailClaim(user.email)).resolves.toBeUndefined();
        await expect(store.findEmailClaim(next.email)).resolves.toMatchObject({
          username: user.username,
        });
        // Once changed, the account no longer is what `before` read: a second fix is refused.
        await expect(store.updatePending(before, next)).rejects.toBeInstanceOf(UsernameTakenError);
      });
      it("moves a pending account stored with an address today's rules refuse (the typo fix of an older item)", async () => {
        const user = await newUser();
        const stored: NewUserRecord = {
          ...user,
          username: `${user.username}-older`,
          email: `\u00e5${user.username}@example.org`,
        };
        await putLegacyUser(stored);
        await putLegacyEmailClaim(stored.email.toLowerCase(), stored.username);
        const request = newMailRequest(MailRequestKind.ACTIVATION);
        const next = {
          ...stored,
          email: `${stored.username}@example.org`,
          createdAt: at(5),
          mailRequestId: request.id,
          mailRequestKind: request.kind,
        };

        await store.updatePending(stored, next);

        await expect(store.findByUsername(stored.username)).resolves.toMatchObject({
          email: next.email,
        });
        await expect(store.findEmailClaim(next.email)).resolves.toMatchObject({
          username: stored.username,
        });
      });
    });

    describe('mail requests', () => {
      it('a resend of a pending account: back to NONE, token and claim gone, the new request open', async () => {
        const { user } = await mailedUser();
        const request = newMailRequest(MailRequestKind.ACTIVATION);

        await expect(store.requestMail(user.username, request, at(10))).resolves.toBe(true);

        const after = await store.findByUsername(user.username);
        expect(after).toMatchObject({
          activationStatus: ActivationStatus.NONE,
          mailRequestId: request.id,
          mailRequestKind: MailRequestKind.ACTIVATION,
        });
        expect(after?.activationTokenHash).toBeUndefined();
        // An execution of an older request cannot claim; the open one can.
        const { hash } = mintActivationToken();
        await expect(
          store.claimActivationMail(user.username, {
            ...claimAt(11, 'old', hash),
            requestId: 'other',
          }),
        ).resolves.toEqual({ claimed: false, reason: 'NOT_OPEN' });
        await expect(
          store.claimActivationMail(user.username, {
            ...claimAt(11, 'new', hash),
            requestId: request.id,
          }),
        ).resolves.toEqual({ claimed: true });
        await expect(store.markMailSent(user.username, 'new', at(12))).resolves.toBe(true);
        expect((await store.findByUsername(user.username))?.mailRequestId).toBeUndefined();
      });

      it('an active account takes notices only, and its notice is claimed and closed once', async () => {
        const { user, tokenHash } = await mailedUser();
        await store.activate(user, tokenHash, at(2));
        const wrongKind = newMailRequest(MailRequestKind.ACTIVATION);
        const request = newMailRequest(MailRequestKind.ALREADY_ACTIVE);

        await expect(store.requestMail(user.username, wrongKind, at(3))).resolves.toBe(false);
        await expect(store.requestMail(user.username, request, at(3))).resolves.toBe(true);
        const claim = { claimId: 'n1', requestId: request.id, leaseExpiresAt: at(60), now: at(4) };

        await expect(store.claimAccountNotice(user.username, claim)).resolves.toEqual({
          claimed: true,
        });
        await expect(
          store.claimAccountNotice(user.username, { ...claim, claimId: 'n2' }),
        ).resolves.toEqual({ claimed: false, reason: 'HELD' });
        await expect(store.markNoticeSent(user.username, 'n1')).resolves.toBe(true);
        await expect(store.markNoticeSent(user.username, 'n1')).resolves.toBe(false);
        await expect(
          store.claimAccountNotice(user.username, { ...claim, claimId: 'n3', now: at(100) }),
        ).resolves.toEqual({ claimed: false, reason: 'NOT_OPEN' });
        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          activationStatus: ActivationStatus.DONE,
        });
      });

      it("a sign-up notice: only on the address's active owner, and once per quiet period", async () => {
        const { user, tokenHash } = await mailedUser();
        await store.activate(user, tokenHash, at(2));
        // A pending account's claim has an expiry; one without counts as an active account's.
        const pending = await newUser({ expiresAt: Math.floor(T0 / 1000) + 600 });
        const notice = () => newMailRequest(MailRequestKind.SIGN_UP_ATTEMPT);

        const outcomes = [
          await store.requestSignUpNotice(user.username, user.email, notice(), at(10), at(-3600)),
          await store.requestSignUpNotice(user.username, user.email, notice(), at(20), at(-3580)),
          await store.requestSignUpNotice(user.username, user.email, notice(), at(3700), at(100)),
          await store.requestSignUpNotice(pending.username, pending.email, notice(), at(10), at(0)),
        ];

        expect(outcomes).toEqual(['REQUESTED', 'QUIET', 'REQUESTED', 'CHANGED']);
        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          mailRequestKind: MailRequestKind.SIGN_UP_ATTEMPT,
          signUpNoticeRequestedAt: at(3700),
        });
        expect((await store.findByUsername(pending.username))?.mailRequestKind).toBeUndefined();
      });
    });

    describe('claimActivationMail', () => {
      it('claims a NONE user, storing the claim, its lease and the token hash with its expiry', async () => {
        const user = await newUser();
        const { hash } = mintActivationToken();

        const outcome = await store.claimActivationMail(user.username, claimAt(0, 'first', hash));

        expect(outcome).toEqual({ claimed: true });
        await expect(store.findByUsername(user.username)).resolves.toEqual({
          ...user,
          mailClaimId: 'first',
          mailClaimExpiresAt: at(LEASE_SECONDS),
          activationTokenHash: hash,
          activationTokenExpiresAt: at(TOKEN_TTL_SECONDS),
        });
      });

      it('refuses with HELD while another claim’s lease lives, keeping that claim and token', async () => {
        const user = await newUser();
        const first = mintActivationToken();
        await store.claimActivationMail(user.username, claimAt(0, 'first', first.hash));

        const outcomes = [
          await store.claimActivationMail(
            user.username,
            claimAt(0, 'second', mintActivationToken().hash),
          ),
          await store.claimActivationMail(
            user.username,
            claimAt(LEASE_SECONDS - 0.001, 'third', mintActivationToken().hash),
          ),
        ];

        expect(outcomes).toEqual([
          { claimed: false, reason: 'HELD' },
          { claimed: false, reason: 'HELD' },
        ]);
        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          mailClaimId: 'first',
          activationTokenHash: first.hash,
        });
      });

      it('takes the same claim again (a retried write whose answer was lost), not HELD', async () => {
        const user = await newUser();
        const token = mintActivationToken();
        const claim = claimAt(0, 'retried', token.hash);
        await store.claimActivationMail(user.username, claim);

        const again = await store.claimActivationMail(user.username, claim);

        expect(again).toEqual({ claimed: true });
        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          mailClaimId: 'retried',
          mailClaimExpiresAt: at(LEASE_SECONDS),
          activationTokenHash: token.hash,
        });
      });

      it('lets another attempt take the claim over once the lease has ended, replacing the token', async () => {
        const user = await newUser();
        await store.claimActivationMail(
          user.username,
          claimAt(0, 'crashed', mintActivationToken().hash),
        );
        const second = mintActivationToken();

        const outcome = await store.claimActivationMail(
          user.username,
          claimAt(LEASE_SECONDS + 0.001, 'second', second.hash),
        );

        expect(outcome).toEqual({ claimed: true });
        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          mailClaimId: 'second',
          mailClaimExpiresAt: at(2 * LEASE_SECONDS + 0.001),
          activationTokenHash: second.hash,
        });
      });

      it('can be claimed again at once after the holder released it', async () => {
        const user = await newUser();
        await store.claimActivationMail(
          user.username,
          claimAt(0, 'first', mintActivationToken().hash),
        );
        await store.releaseActivationMailClaim(user.username, 'first');

        const outcome = await store.claimActivationMail(
          user.username,
          claimAt(1, 'second', mintActivationToken().hash),
        );

        expect(outcome).toEqual({ claimed: true });
      });

      it.each([ActivationStatus.MAIL_SENT, ActivationStatus.DONE])(
        'refuses with NOT_NONE for a user in status %s, changing nothing',
        async (activationStatus) => {
          const user = await newUser({
            activationStatus,
            activationTokenHash: mintActivationToken().hash,
            activationTokenExpiresAt: at(TOKEN_TTL_SECONDS),
          });

          const outcome = await store.claimActivationMail(
            user.username,
            claimAt(0, 'late', mintActivationToken().hash),
          );

          expect(outcome).toEqual({ claimed: false, reason: 'NOT_NONE' });
          await expect(store.findByUsername(user.username)).resolves.toEqual(user);
        },
      );

      it('refuses with NOT_FOUND for an unknown user and creates nothing', async () => {
        const outcome = await store.claimActivationMail(
          'ghost-claim',
          claimAt(0, 'ghost', mintActivationToken().hash),
        );

        expect(outcome).toEqual({ claimed: false, reason: 'NOT_FOUND' });
        await expect(hasAnyItem('ghost-claim')).resolves.toBe(false);
      });

      it('of 20 concurrent claims, exactly one wins and the others are told HELD', async () => {
        const user = await newUser();

        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.claimActivationMail(
              user.username,
              claimAt(0, `attempt-${i}`, mintActivationToken().hash),
            ),
          ),
        );

        const winners = outcomes.flatMap((outcome, i) => (outcome.claimed ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(outcomes.filter((outcome) => !outcome.claimed)).toEqual(
          Array.from({ length: 19 }, () => ({ claimed: false, reason: 'HELD' })),
        );
        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          mailClaimId: `attempt-${winners[0]}`,
        });
      });
    });

    describe('releaseActivationMailClaim', () => {
      it('removes the holder’s claim, leaving the user NONE', async () => {
        const user = await newUser();
        await store.claimActivationMail(
          user.username,
          claimAt(0, 'holder', mintActivationToken().hash),
        );

        await store.releaseActivationMailClaim(user.username, 'holder');

        const stored = await store.findByUsername(user.username);
        expect(stored).toMatchObject({ activationStatus: ActivationStatus.NONE });
        expect(stored).not.toHaveProperty('mailClaimId');
        expect(stored).not.toHaveProperty('mailClaimExpiresAt');
      });

      it('leaves a claim held by another attempt alone', async () => {
        const user = await newUser();
        await store.claimActivationMail(
          user.username,
          claimAt(0, 'holder', mintActivationToken().hash),
        );

        await store.releaseActivationMailClaim(user.username, 'someone-else');

        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          mailClaimId: 'holder',
          mailClaimExpiresAt: at(LEASE_SECONDS),
        });
        await expect(
          store.claimActivationMail(user.username, claimAt(1, 'third', mintActivationToken().hash)),
        ).resolves.toEqual({ claimed: false, reason: 'HELD' });
      });

      it('does not release the claim of an attempt that took over after the lease', async () => {
        const user = await newUser();
        await store.claimActivationMail(
          user.username,
          claimAt(0, 'slow', mintActivationToken().hash),
        );
        await store.claimActivationMail(
          user.username,
          claimAt(LEASE_SECONDS + 1, 'takeover', mintActivationToken().hash),
        );

        await store.releaseActivationMailClaim(user.username, 'slow');

        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          mailClaimId: 'takeover',
        });
      });

      it('is a no-op for an unknown user and creates nothing', async () => {
        await expect(
          store.releaseActivationMailClaim('ghost-release', 'any'),
        ).resolves.toBeUndefined();

        await expect(hasAnyItem('ghost-release')).resolves.toBe(false);
      });
    });

    describe('markMailSent', () => {
      it('takes the holder’s user from NONE to MAIL_SENT, stores the time and clears the claim', async () => {
        const user = await newUser();
        const { hash } = mintActivationToken();
        await store.claimActivationMail(user.username, claimAt(0, 'holder', hash));

        const marked = await store.markMailSent(user.username, 'holder', at(2));

        expect(marked).toBe(true);
        await expect(store.findByUsername(user.username)).resolves.toEqual({
          ...user,
          activationStatus: ActivationStatus.MAIL_SENT,
          activationMailSentAt: at(2),
          activationTokenHash: hash,
          activationTokenExpiresAt: at(TOKEN_TTL_SECONDS),
        });
      });

      it('refuses an attempt that does not hold the claim', async () => {
        const user = await newUser();
        await store.claimActivationMail(
          user.username,
          claimAt(0, 'holder', mintActivationToken().hash),
        );

        const marked = await store.markMailSent(user.username, 'someone-else', at(2));

        expect(marked).toBe(false);
        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          activationStatus: ActivationStatus.NONE,
          mailClaimId: 'holder',
        });
      });

      it('refuses once the claim was released', async () => {
        const user = await newUser();
        await store.claimActivationMail(
          user.username,
          claimAt(0, 'holder', mintActivationToken().hash),
        );
        await store.releaseActivationMailClaim(user.username, 'holder');

        await expect(store.markMailSent(user.username, 'holder', at(2))).resolves.toBe(false);
        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          activationStatus: ActivationStatus.NONE,
        });
      });

      it('refuses a second time for the same claim', async () => {
        const user = await newUser();
        await store.claimActivationMail(
          user.username,
          claimAt(0, 'holder', mintActivationToken().hash),
        );
        await store.markMailSent(user.username, 'holder', at(2));

        await expect(store.markMailSent(user.username, 'holder', at(3))).resolves.toBe(false);
        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          activationMailSentAt: at(2),
        });
      });

      it.each([ActivationStatus.MAIL_SENT, ActivationStatus.DONE])(
        'refuses a user in status %s even with a matching claim id',
        async (activationStatus) => {
          const user = await newUser({
            activationStatus,
            mailClaimId: 'stale',
            mailClaimExpiresAt: at(LEASE_SECONDS),
          });

          await expect(store.markMailSent(user.username, 'stale', at(2))).resolves.toBe(false);
          await expect(store.findByUsername(user.username)).resolves.toEqual(user);
        },
      );

      it('refuses an unknown user and creates nothing', async () => {
        await expect(store.markMailSent('ghost-mark', 'any', at(2))).resolves.toBe(false);

        await expect(hasAnyItem('ghost-mark')).resolves.toBe(false);
      });
    });

    describe('activate', () => {
      it('takes a MAIL_SENT user to DONE with the right hash before expiry, keeping the hash', async () => {
        const { user, tokenHash } = await mailedUser();

        const activated = await store.activate(user, tokenHash, at(10));

        expect(activated).toBe(true);
        await expect(store.findByUsername(user.username)).resolves.toEqual({
          ...user,
          activationStatus: ActivationStatus.DONE,
          activatedAt: at(10),
          activationMailSentAt: at(1),
          activationTokenHash: tokenHash,
          activationTokenExpiresAt: at(TOKEN_TTL_SECONDS),
        });
      });

      it('takes a NONE user whose claim is still held to DONE and clears the claim', async () => {
        const user = await newUser();
        const { hash } = mintActivationToken();
        await store.claimActivationMail(user.username, claimAt(0, 'in-flight', hash));

        const activated = await store.activate(user, hash, at(10));

        expect(activated).toBe(true);
        const stored = await store.findByUsername(user.username);
        expect(stored).toMatchObject({ activationStatus: ActivationStatus.DONE });
        expect(stored).not.toHaveProperty('mailClaimId');
        expect(stored).not.toHaveProperty('mailClaimExpiresAt');
      });

      it('refuses a hash that is not the stored one', async () => {
        const { user } = await mailedUser();

        await expect(store.activate(user, mintActivationToken().hash, at(10))).resolves.toBe(false);
        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          activationStatus: ActivationStatus.MAIL_SENT,
        });
      });

      it('refuses the hash of a token replaced by a newer claim', async () => {
        const user = await newUser();
        const old = mintActivationToken();
        await store.claimActivationMail(user.username, claimAt(0, 'old', old.hash));
        await store.claimActivationMail(
          user.username,
          claimAt(LEASE_SECONDS + 1, 'new', mintActivationToken().hash),
        );

        await expect(store.activate(user, old.hash, at(LEASE_SECONDS + 2))).resolves.toBe(false);
      });

      it('activates until just before the token expires', async () => {
        const { user, tokenHash } = await mailedUser();

        await expect(store.activate(user, tokenHash, at(TOKEN_TTL_SECONDS - 0.001))).resolves.toBe(
          true,
        );
      });

      it.each([
        ['when it expires', TOKEN_TTL_SECONDS],
        ['after it expired', TOKEN_TTL_SECONDS + 1],
      ])('refuses the right hash %s', async (_case, seconds) => {
        const { user, tokenHash } = await mailedUser();

        await expect(store.activate(user, tokenHash, at(seconds))).resolves.toBe(false);
        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          activationStatus: ActivationStatus.MAIL_SENT,
        });
      });

      it('never activates twice: the second call is refused and changes nothing', async () => {
        const { user, tokenHash } = await mailedUser();
        await store.activate(user, tokenHash, at(10));

        const second = await store.activate(user, tokenHash, at(20));

        expect(second).toBe(false);
        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          activationStatus: ActivationStatus.DONE,
          activatedAt: at(10),
        });
      });

      it('of 10 concurrent activations with the right hash, exactly one succeeds', async () => {
        const { user, tokenHash } = await mailedUser();

        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.activate(user, tokenHash, at(10 + i))),
        );

        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('refuses a user that has no token yet', async () => {
        const user = await newUser();

        await expect(store.activate(user, mintActivationToken().hash, at(10))).resolves.toBe(false);
      });

      it('refuses an unknown user and creates nothing', async () => {
        await expect(
          store.activate(
            { username: 'ghost-activate', email: 'ghost-activate@example.org' },
            mintActivationToken().hash,
            at(10),
          ),
        ).resolves.toBe(false);

        await expect(hasAnyItem('ghost-activate')).resolves.toBe(false);
      });
    });

    describe('the empty username (no user can have it)', () => {
      it('finds nothing', async () => {
        await expect(store.findByUsername('')).resolves.toBeUndefined();
      });

      it('claims nothing: NOT_FOUND', async () => {
        await expect(
          store.claimActivationMail('', claimAt(0, 'empty', mintActivationToken().hash)),
        ).resolves.toEqual({ claimed: false, reason: 'NOT_FOUND' });
      });

      it('releases, marks and activates nothing', async () => {
        await expect(store.releaseActivationMailClaim('', 'empty')).resolves.toBeUndefined();
        await expect(store.markMailSent('', 'empty', at(1))).resolves.toBe(false);
        await expect(
          store.activate(
            { username: '', email: 'nobody@example.org' },
            mintActivationToken().hash,
            at(1),
          ),
        ).resolves.toBe(false);
      });
    });
  });
}
