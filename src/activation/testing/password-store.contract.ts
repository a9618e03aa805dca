/**
 * The UserStore contract for passwords: the PASSWORD_RESET request, its send claim and
 * token, the change of a password (by a reset link, or signed in) and what it ends, as
 * one jest suite run against every implementation, like `describeUserStoreContract`.
 * Import it only from spec files.
 */
import {
  ActivationStatus,
  type MailRequest,
  MailRequestKind,
  mintActivationToken,
  newMailRequest,
  PASSWORD_CHANGED_NOTICE_HOLD_SECONDS,
  type PasswordChange,
  type PasswordResetMailClaim,
  type NewUserRecord,
  UsernameTakenError,
  type UserStore,
} from '..';
import type { UserStoreContractSubject } from './user-store.contract';

export type PasswordStoreContractSubject = Pick<
  UserStoreContractSubject,
  'store' | 'hasAnyItem'
> & {
  /**
   * When the account's "every session ended" marker says its sessions ended (epoch ms),
   * or undefined when it has none: what `changePassword` writes at its `now`.
   */
  sessionsEndedAt(username: string): Promise<number | undefined>;
};

const T0 = Date.parse('2026-03-01T09:00:00.000Z');
const LEASE_SECONDS = 60;
const TOKEN_TTL_SECONDS = 3600;
/** How long after T0 a pending account of these tests lives. */
const PENDING_SECONDS = 86_400;

/** ISO instant `seconds` after T0. */
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
/** Epoch seconds, `seconds` after T0 (a pending account's `expiresAt`). */
const epoch = (seconds: number) => Math.floor(T0 / 1000) + seconds;

let counter = 0;

function resetClaimAt(
  seconds: number,
  claimId: string,
  requestId: string,
  tokenHash: string,
): PasswordResetMailClaim {
  return {
    claimId,
    requestId,
    tokenHash,
    tokenExpiresAt: at(seconds + TOKEN_TTL_SECONDS),
    leaseExpiresAt: at(seconds + LEASE_SECONDS),
    now: at(seconds),
  };
}

/** `record` without the given fields (what a write removed). */
function without(record: NewUserRecord, ...keys: (keyof NewUserRecord)[]): NewUserRecord {
  const copy: Partial<Record<keyof NewUserRecord, unknown>> = { ...record };
  for (const key of keys) delete copy[key];
  return copy as NewUserRecord;
}

const RESET_TOKEN: (keyof NewUserRecord)[] = [
  'passwordResetTokenHash',
  'passwordResetTokenExpiresAt',
];
const ACTIVATION_TOKEN: (keyof NewUserRecord)[] = [
  'activationTokenHash',
  'activationTokenExpiresAt',
];
const SEND_CLAIM: (keyof NewUserRecord)[] = ['mailClaimId', 'mailClaimExpiresAt'];

/**
 * @param subject called once per test, after the suite's `beforeAll` hooks; may hand out
 *   a fresh store each time or a shared one (every test uses usernames of its own).
 */
export function describePasswordStoreContract(subject: () => PasswordStoreContractSubject): void {
  describe('UserStore contract: password reset and change', () => {
    let store: UserStore;
    let hasAnyItem: (username: string) => Promise<boolean>;
    let sessionsEndedAt: (username: string) => Promise<number | undefined>;

    beforeEach(() => {
      const current = subject();
      store = current.store;
      hasAnyItem =
        current.hasAnyItem?.bind(current) ??
        (async (username) => (await store.findByUsername(username)) !== undefined);
      sessionsEndedAt = current.sessionsEndedAt.bind(current);
    });

    const stored = async (username: string): Promise<NewUserRecord> => {
      const user = await store.findByUsername(username);
      expect(user).toBeDefined();
      return user as NewUserRecord;
    };

    /** A fresh pending account (unique username and email), NONE, with no request open. */
    async function newUser(changes: Partial<NewUserRecord> = {}): Promise<NewUserRecord> {
      counter += 1;
      const username = `password-${counter}-${Math.random().toString(36).slice(2, 8)}`;
      const user: NewUserRecord = {
        username,
        email: `${username}@example.org`,
        name: 'Alice Liddell',
        passwordHash: '$fake$old',
        activationStatus: ActivationStatus.NONE,
        activationUrlBase: 'https://cards.example/activate',
        createdAt: at(-60),
        expiresAt: epoch(PENDING_SECONDS),
        ...changes,
      };
      await store.create(user);
      return user;
    }

    /** A pending account whose activation mail went out at T0 (MAIL_SENT, token live). */
    async function pendingUser(
      changes: Partial<NewUserRecord> = {},
    ): Promise<{ user: NewUserRecord; activationHash: string }> {
      const created = await newUser(changes);
      const { hash } = mintActivationToken();
      await expect(
        store.claimActivationMail(created.username, {
          claimId: 'activation-mailer',
          tokenHash: hash,
          tokenExpiresAt: at(TOKEN_TTL_SECONDS),
          leaseExpiresAt: at(LEASE_SECONDS),
          now: at(0),
        }),
      ).resolves.toEqual({ claimed: true });
      await expect(store.markMailSent(created.username, 'activation-mailer', at(1))).resolves.toBe(
        true,
      );
      const user = await stored(created.username);
      expect(user).toMatchObject({ activationStatus: ActivationStatus.MAIL_SENT });
      return { user, activationHash: hash };
    }

    /** An account activated at 2 s (it keeps its activation token's hash, as activation does). */
    async function activeUser(changes: Partial<NewUserRecord> = {}): Promise<NewUserRecord> {
      const { user, activationHash } = await pendingUser(changes);
      await expect(store.activate(user, activationHash, at(2))).resolves.toBe(true);
      const active = await stored(user.username);
      expect(active).toMatchObject({ activationStatus: ActivationStatus.DONE });
      expect(active.expiresAt).toBeUndefined();
      return active;
    }

    /** Opens a PASSWORD_RESET request at `seconds`. */
    async function requestReset(username: string, seconds: number): Promise<MailRequest> {
      const request = newMailRequest(MailRequestKind.PASSWORD_RESET);
      await expect(store.requestMail(username, request, at(seconds))).resolves.toBe(true);
      return request;
    }

    /**
     * A reset mail as the pipeline sends it: requested at `seconds`, claimed a second later
     * (the token lives from then on for TOKEN_TTL_SECONDS) and, unless `sent` is false,
     * recorded sent (the request closed). Returns the token's hash and the record after.
     */
    async function resetLink(
      username: string,
      seconds: number,
      { sent = true }: { sent?: boolean } = {},
    ): Promise<{ tokenHash: string; claimId: string; request: MailRequest; user: NewUserRecord }> {
      const request = await requestReset(username, seconds);
      const { hash } = mintActivationToken();
      const claimId = `reset-mailer-${seconds}`;
      await expect(
        store.claimPasswordResetMail(
          username,
          resetClaimAt(seconds + 1, claimId, request.id, hash),
        ),
      ).resolves.toEqual({ claimed: true });
      if (sent) await expect(store.markNoticeSent(username, claimId)).resolves.toBe(true);
      const user = await stored(username);
      expect(user).toMatchObject({
        passwordResetTokenHash: hash,
        passwordResetTokenExpiresAt: at(seconds + 1 + TOKEN_TTL_SECONDS),
      });
      return { tokenHash: hash, claimId, request, user };
    }

    function change(
      user: PasswordChange['user'],
      proof: PasswordChange['proof'],
      seconds: number,
      newPasswordHash = `$fake$new-${seconds}`,
    ): PasswordChange {
      return {
        user,
        newPasswordHash,
        proof,
        request: newMailRequest(MailRequestKind.PASSWORD_CHANGED),
        now: at(seconds),
      };
    }

    /** The record after a successful change of `before` (which held tokens and a claim). */
    function changed(before: NewUserRecord, written: PasswordChange): NewUserRecord {
      return {
        ...without(before, ...RESET_TOKEN, ...ACTIVATION_TOKEN, ...SEND_CLAIM, 'expiresAt'),
        passwordHash: written.newPasswordHash,
        passwordChangedAt: written.now,
        activationStatus: ActivationStatus.DONE,
        activatedAt: before.activatedAt ?? written.now,
        mailRequestId: written.request.id,
        mailRequestKind: MailRequestKind.PASSWORD_CHANGED,
      };
    }

    /** Refused: the record is as it was and no session was ended. */
    async function expectUnchanged(before: NewUserRecord): Promise<void> {
      await expect(store.findByUsername(before.username)).resolves.toEqual(before);
      await expect(sessionsEndedAt(before.username)).resolves.toBeUndefined();
    }

    describe('requestMail(PASSWORD_RESET)', () => {
      it('opens on a pending account that has not expired, changing nothing else', async () => {
        const { user } = await pendingUser();
        const request = newMailRequest(MailRequestKind.PASSWORD_RESET);

        await expect(store.requestMail(user.username, request, at(10))).resolves.toBe(true);

        // The activation link lives on: a reset request is no resend.
        await expect(store.findByUsername(user.username)).resolves.toEqual({
          ...user,
          mailRequestId: request.id,
          mailRequestKind: MailRequestKind.PASSWORD_RESET,
        });
      });

      it('opens on a pending account still in NONE (no activation mail recorded yet)', async () => {
        const user = await newUser();
        const request = newMailRequest(MailRequestKind.PASSWORD_RESET);

        await expect(store.requestMail(user.username, request, at(10))).resolves.toBe(true);

        await expect(store.findByUsername(user.username)).resolves.toEqual({
          ...user,
          mailRequestId: request.id,
          mailRequestKind: MailRequestKind.PASSWORD_RESET,
        });
      });

      it('opens on an active account', async () => {
        const user = await activeUser();
        const request = newMailRequest(MailRequestKind.PASSWORD_RESET);

        await expect(store.requestMail(user.username, request, at(10))).resolves.toBe(true);

        await expect(store.findByUsername(user.username)).resolves.toEqual({
          ...user,
          mailRequestId: request.id,
          mailRequestKind: MailRequestKind.PASSWORD_RESET,
        });
      });

      it('removes the reset token and a held send claim: the older reset link dies', async () => {
        const user = await activeUser();
        const old = await resetLink(user.username, 10, { sent: false });
        expect(old.user).toMatchObject({ mailClaimId: old.claimId });
        const request = newMailRequest(MailRequestKind.PASSWORD_RESET);

        await expect(store.requestMail(user.username, request, at(20))).resolves.toBe(true);

        await expect(store.findByUsername(user.username)).resolves.toEqual({
          ...without(old.user, ...RESET_TOKEN, ...SEND_CLAIM),
          mailRequestId: request.id,
          mailRequestKind: MailRequestKind.PASSWORD_RESET,
        });
        // The older attempt can record nothing, and its link changes nothing.
        await expect(store.markNoticeSent(user.username, old.claimId)).resolves.toBe(false);
        const after = await stored(user.username);
        await expect(
          store.changePassword(change(after, { resetTokenHash: old.tokenHash }, 30)),
        ).resolves.toBe(false);
        await expectUnchanged(after);
      });

      it('removes the reset token of a mail already sent', async () => {
        const user = await activeUser();
        const old = await resetLink(user.username, 10);

        await requestReset(user.username, 20);

        const after = await stored(user.username);
        expect(after).not.toHaveProperty('passwordResetTokenHash');
        expect(after).not.toHaveProperty('passwordResetTokenExpiresAt');
        await expect(
          store.changePassword(change(after, { resetTokenHash: old.tokenHash }, 30)),
        ).resolves.toBe(false);
        await expectUnchanged(after);
      });

      it('replaces an open request: only the new one can be claimed', async () => {
        const user = await activeUser();
        const notice = newMailRequest(MailRequestKind.ALREADY_ACTIVE);
        await expect(store.requestMail(user.username, notice, at(5))).resolves.toBe(true);
        const first = await requestReset(user.username, 10);

        const second = await requestReset(user.username, 20);

        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          mailRequestId: second.id,
          mailRequestKind: MailRequestKind.PASSWORD_RESET,
        });
        await expect(
          store.claimAccountNotice(user.username, {
            claimId: 'notice',
            requestId: notice.id,
            leaseExpiresAt: at(21 + LEASE_SECONDS),
            now: at(21),
          }),
        ).resolves.toEqual({ claimed: false, reason: 'NOT_OPEN' });
        await expect(
          store.claimPasswordResetMail(
            user.username,
            resetClaimAt(21, 'first', first.id, mintActivationToken().hash),
          ),
        ).resolves.toEqual({ claimed: false, reason: 'NOT_OPEN' });
        await expect(
          store.claimPasswordResetMail(
            user.username,
            resetClaimAt(21, 'second', second.id, mintActivationToken().hash),
          ),
        ).resolves.toEqual({ claimed: true });
      });

      it('replaces the open activation request of a pending account', async () => {
        const user = await newUser();
        const activation = newMailRequest(MailRequestKind.ACTIVATION);
        await expect(store.requestMail(user.username, activation, at(5))).resolves.toBe(true);

        const reset = await requestReset(user.username, 10);

        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          mailRequestId: reset.id,
          mailRequestKind: MailRequestKind.PASSWORD_RESET,
        });
        await expect(
          store.claimActivationMail(user.username, {
            claimId: 'activation',
            requestId: activation.id,
            tokenHash: mintActivationToken().hash,
            tokenExpiresAt: at(11 + TOKEN_TTL_SECONDS),
            leaseExpiresAt: at(11 + LEASE_SECONDS),
            now: at(11),
          }),
        ).resolves.toEqual({ claimed: false, reason: 'NOT_OPEN' });
      });

      it('is false for an unknown user and creates nothing', async () => {
        const request = newMailRequest(MailRequestKind.PASSWORD_RESET);

        await expect(store.requestMail('ghost-reset-request', request, at(10))).resolves.toBe(
          false,
        );

        await expect(hasAnyItem('ghost-reset-request')).resolves.toBe(false);
      });

      it.each([
        ['when it expires', 100],
        ['after it expired', 101],
      ])('is false for a pending account %s, changing nothing', async (_case, seconds) => {
        const { user } = await pendingUser({ expiresAt: epoch(100) });
        const request = newMailRequest(MailRequestKind.PASSWORD_RESET);

        await expect(store.requestMail(user.username, request, at(seconds))).resolves.toBe(false);

        await expect(store.findByUsername(user.username)).resolves.toEqual(user);
      });

      it('opens on a pending account until just before it expires', async () => {
        const { user } = await pendingUser({ expiresAt: epoch(100) });
        const request = newMailRequest(MailRequestKind.PASSWORD_RESET);

        await expect(store.requestMail(user.username, request, at(99.5))).resolves.toBe(true);

        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          mailRequestId: request.id,
        });
      });
    });

    describe('claimPasswordResetMail', () => {
      it.each([
        ['an active account', activeUser],
        ['a pending account', async () => (await pendingUser()).user],
      ])(
        'claims the open request of %s, storing the claim, its lease and the token hash with its expiry',
        async (_case, make) => {
          const user = await make();
          const request = await requestReset(user.username, 10);
          const { hash } = mintActivationToken();

          const outcome = await store.claimPasswordResetMail(
            user.username,
            resetClaimAt(11, 'first', request.id, hash),
          );

          expect(outcome).toEqual({ claimed: true });
          await expect(store.findByUsername(user.username)).resolves.toEqual({
            ...user,
            mailRequestId: request.id,
            mailRequestKind: MailRequestKind.PASSWORD_RESET,
            mailClaimId: 'first',
            mailClaimExpiresAt: at(11 + LEASE_SECONDS),
            passwordResetTokenHash: hash,
            passwordResetTokenExpiresAt: at(11 + TOKEN_TTL_SECONDS),
          });
        },
      );

      it('refuses with HELD while another claim’s lease lives, keeping that claim and token', async () => {
        const user = await activeUser();
        const request = await requestReset(user.username, 10);
        const first = mintActivationToken();
        await store.claimPasswordResetMail(
          user.username,
          resetClaimAt(11, 'first', request.id, first.hash),
        );
        const before = await stored(user.username);

        const outcomes = [
          await store.claimPasswordResetMail(
            user.username,
            resetClaimAt(11, 'second', request.id, mintActivationToken().hash),
          ),
          await store.claimPasswordResetMail(
            user.username,
            resetClaimAt(
              11 + LEASE_SECONDS - 0.001,
              'third',
              request.id,
              mintActivationToken().hash,
            ),
          ),
        ];

        expect(outcomes).toEqual([
          { claimed: false, reason: 'HELD' },
          { claimed: false, reason: 'HELD' },
        ]);
        await expect(store.findByUsername(user.username)).resolves.toEqual(before);
        expect(before).toMatchObject({ mailClaimId: 'first', passwordResetTokenHash: first.hash });
      });

      it('takes the same claim again (a retried write whose answer was lost), not HELD', async () => {
        const user = await activeUser();
        const request = await requestReset(user.username, 10);
        const { hash } = mintActivationToken();
        const claim = resetClaimAt(11, 'retried', request.id, hash);
        await store.claimPasswordResetMail(user.username, claim);

        const again = await store.claimPasswordResetMail(user.username, {
          ...claim,
          now: at(12),
        });

        expect(again).toEqual({ claimed: true });
        await expect(store.findByUsername(user.username)).resolves.toMatchObject({
          mailClaimId: 'retried',
          mailClaimExpiresAt: at(11 + LEASE_SECONDS),
          passwordResetTokenHash: hash,
          passwordResetTokenExpiresAt: at(11 + TOKEN_TTL_SECONDS),
        });
      });

      it('lets another attempt take the claim over once the lease has ended: only its token works', async () => {
        const user = await activeUser();
        const request = await requestReset(user.username, 10);
        const crashed = mintActivationToken();
        await store.claimPasswordResetMail(
          user.username,
          resetClaimAt(11, 'crashed', request.id, crashed.hash),
        );
        const second = mintActivationToken();

        const outcome = await store.claimPasswordResetMail(
          user.username,
          resetClaimAt(11 + LEASE_SECONDS, 'second', request.id, second.hash),
        );

        expect(outcome).toEqual({ claimed: true });
        const after = await stored(user.username);
        expect(after).toMatchObject({
          mailClaimId: 'second',
          mailClaimExpiresAt: at(11 + 2 * LEASE_SECONDS),
          passwordResetTokenHash: second.hash,
          passwordResetTokenExpiresAt: at(11 + LEASE_SECONDS + TOKEN_TTL_SECONDS),
        });
        await expect(store.markNoticeSent(user.username, 'crashed')).resolves.toBe(false);
        await expect(
          store.changePassword(change(after, { resetTokenHash: crashed.hash }, 100)),
        ).resolves.toBe(false);
        await expectUnchanged(after);
      });

      it('refuses with NOT_OPEN a request that is not the open one, changing nothing', async () => {
        const user = await activeUser();
        await requestReset(user.username, 10);
        const before = await stored(user.username);

        const outcome = await store.claimPasswordResetMail(
          user.username,
          resetClaimAt(
            11,
            'stray',
            newMailRequest(MailRequestKind.PASSWORD_RESET).id,
            'f'.repeat(64),
          ),
        );

        expect(outcome).toEqual({ claimed: false, reason: 'NOT_OPEN' });
        await expect(store.findByUsername(user.username)).resolves.toEqual(before);
      });

      it('refuses with NOT_OPEN once the request was closed by its mail', async () => {
        const user = await activeUser();
        const link = await resetLink(user.username, 10);

        const outcome = await store.claimPasswordResetMail(
          user.username,
          resetClaimAt(100, 'late', link.request.id, mintActivationToken().hash),
        );

        expect(outcome).toEqual({ claimed: false, reason: 'NOT_OPEN' });
        await expect(store.findByUsername(user.username)).resolves.toEqual(link.user);
      });

      it('refuses with NOT_OPEN when the account has no open request', async () => {
        const user = await activeUser();

        const outcome = await store.claimPasswordResetMail(
          user.username,
          resetClaimAt(
            11,
            'none',
            newMailRequest(MailRequestKind.PASSWORD_RESET).id,
            'e'.repeat(64),
          ),
        );

        expect(outcome).toEqual({ claimed: false, reason: 'NOT_OPEN' });
        await expect(store.findByUsername(user.username)).resolves.toEqual(user);
      });

      it('refuses with NOT_FOUND for an unknown user and creates nothing', async () => {
        const outcome = await store.claimPasswordResetMail(
          'ghost-reset-claim',
          resetClaimAt(
            11,
            'ghost',
            newMailRequest(MailRequestKind.PASSWORD_RESET).id,
            'd'.repeat(64),
          ),
        );

        expect(outcome).toEqual({ claimed: false, reason: 'NOT_FOUND' });
        await expect(hasAnyItem('ghost-reset-claim')).resolves.toBe(false);
      });

      it('refuses with NOT_FOUND a pending account that expired after its request', async () => {
        const { user } = await pendingUser({ expiresAt: epoch(100) });
        const request = await requestReset(user.username, 10);
        const before = await stored(user.username);

        const outcome = await store.claimPasswordResetMail(
          user.username,
          resetClaimAt(100, 'late', request.id, mintActivationToken().hash),
        );

        expect(outcome).toEqual({ claimed: false, reason: 'NOT_FOUND' });
        await expect(store.findByUsername(user.username)).resolves.toEqual(before);
      });

      it('refuses with NOT_FOUND an expired pending account, whatever request is asked for', async () => {
        const { user } = await pendingUser({ expiresAt: epoch(100) });
        await requestReset(user.username, 10);
        const before = await stored(user.username);

        const outcome = await store.claimPasswordResetMail(
          user.username,
          resetClaimAt(
            100,
            'stray-late',
            newMailRequest(MailRequestKind.PASSWORD_RESET).id,
            mintActivationToken().hash,
          ),
        );

        expect(outcome).toEqual({ claimed: false, reason: 'NOT_FOUND' });
        await expect(store.findByUsername(user.username)).resolves.toEqual(before);
      });

      it('refuses with NOT_OPEN the open request of another kind', async () => {
        const user = await activeUser();
        const notice = newMailRequest(MailRequestKind.ALREADY_ACTIVE);
        await store.requestMail(user.username, notice, at(10));
        const before = await stored(user.username);

        const outcome = await store.claimPasswordResetMail(
          user.username,
          resetClaimAt(11, 'wrong-kind', notice.id, mintActivationToken().hash),
        );

        expect(outcome).toEqual({ claimed: false, reason: 'NOT_OPEN' });
        await expect(store.findByUsername(user.username)).resolves.toEqual(before);
      });

      it('of 20 concurrent claims, exactly one wins and the others are told HELD', async () => {
        const user = await activeUser();
        const request = await requestReset(user.username, 10);
        const hashes = Array.from({ length: 20 }, () => mintActivationToken().hash);

        const outcomes = await Promise.all(
          hashes.map((hash, i) =>
            store.claimPasswordResetMail(
              user.username,
              resetClaimAt(11, `attempt-${i}`, request.id, hash),
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
          passwordResetTokenHash: hashes[winners[0]!],
        });
      });
    });

    describe('markNoticeSent of a reset mail', () => {
      it('closes the request for the holder of the claim only, keeping the token live', async () => {
        const user = await activeUser();
        const link = await resetLink(user.username, 10, { sent: false });

        await expect(store.markNoticeSent(user.username, 'someone-else')).resolves.toBe(false);
        await expect(store.findByUsername(user.username)).resolves.toEqual(link.user);

        await expect(store.markNoticeSent(user.username, link.claimId)).resolves.toBe(true);
        const after = await stored(user.username);
        expect(after).toEqual(
          without(link.user, ...SEND_CLAIM, 'mailRequestId', 'mailRequestKind'),
        );
        expect(after).toMatchObject({ passwordResetTokenHash: link.tokenHash });

        await expect(store.markNoticeSent(user.username, link.claimId)).resolves.toBe(false);
        await expect(store.findByUsername(user.username)).resolves.toEqual(after);
        // The mailed link still works.
        await expect(
          store.changePassword(change(after, { resetTokenHash: link.tokenHash }, 100)),
        ).resolves.toBe(true);
      });
    });

    describe('changePassword with a reset link', () => {
      it('sets the new hash of an active account, kills every token and claim, opens PASSWORD_CHANGED and ends its sessions', async () => {
        const user = await activeUser();
        const link = await resetLink(user.username, 10, { sent: false });
        expect(link.user).toMatchObject({
          activationTokenHash: expect.any(String),
          mailClaimId: link.claimId,
        });
        const written = change(link.user, { resetTokenHash: link.tokenHash }, 100);

        await expect(store.changePassword(written)).resolves.toBe(true);

        await expect(store.findByUsername(user.username)).resolves.toEqual(
          changed(link.user, written),
        );
        expect((await stored(user.username)).activatedAt).toBe(at(2));
        await expect(sessionsEndedAt(user.username)).resolves.toBe(Date.parse(at(100)));
        // The reset mail's attempt, if still running, can record nothing.
        await expect(store.markNoticeSent(user.username, link.claimId)).resolves.toBe(false);
      });

      it('activates a pending account: DONE, activated now, no expiry, and neither has its e-mail claim', async () => {
        const { user, activationHash } = await pendingUser();
        const link = await resetLink(user.username, 10);
        await expect(store.findEmailClaim(user.email)).resolves.toEqual({
          username: user.username,
          expiresAt: epoch(PENDING_SECONDS),
        });
        const written = change(link.user, { resetTokenHash: link.tokenHash }, 100);

        await expect(store.changePassword(written)).resolves.toBe(true);

        const after = await stored(user.username);
        expect(after).toEqual(changed(link.user, written));
        expect(after).toMatchObject({
          activationStatus: ActivationStatus.DONE,
          activatedAt: at(100),
        });
        expect(after).not.toHaveProperty('expiresAt');
        await expect(store.findEmailClaim(user.email)).resolves.toEqual({
          username: user.username,
        });
        await expect(sessionsEndedAt(user.username)).resolves.toBe(Date.parse(at(100)));
        // The activation link died with the change.
        await expect(store.activate(after, activationHash, at(101))).resolves.toBe(false);
        // An active account stays: its username is not free any more after the old expiry.
        await expect(
          store.create({
            ...user,
            email: `other-${user.email}`,
            createdAt: at(PENDING_SECONDS + 1),
            expiresAt: epoch(2 * PENDING_SECONDS),
          }),
        ).rejects.toBeInstanceOf(UsernameTakenError);
      });

      it('activates a pending account in NONE whose activation claim is still held', async () => {
        const created = await newUser();
        const { hash } = mintActivationToken();
        await store.claimActivationMail(created.username, {
          claimId: 'activation-in-flight',
          tokenHash: hash,
          tokenExpiresAt: at(TOKEN_TTL_SECONDS),
          leaseExpiresAt: at(LEASE_SECONDS),
          now: at(0),
        });
        // The reset request took the activation claim away; its own claim is held now.
        const link = await resetLink(created.username, 10, { sent: false });
        const written = change(link.user, { resetTokenHash: link.tokenHash }, 20);

        await expect(store.changePassword(written)).resolves.toBe(true);

        await expect(store.findByUsername(created.username)).resolves.toEqual(
          changed(link.user, written),
        );
        await expect(store.findEmailClaim(created.email)).resolves.toEqual({
          username: created.username,
        });
        await expect(
          store.markMailSent(created.username, 'activation-in-flight', at(21)),
        ).resolves.toBe(false);
      });

      it('succeeds until just before the token expires', async () => {
        const user = await activeUser();
        const link = await resetLink(user.username, 10);
        const expiry = 11 + TOKEN_TTL_SECONDS;

        await expect(
          store.changePassword(
            change(link.user, { resetTokenHash: link.tokenHash }, expiry - 0.001),
          ),
        ).resolves.toBe(true);
        await expect(sessionsEndedAt(user.username)).resolves.toBe(Date.parse(at(expiry - 0.001)));
      });

      it('refuses a hash that is not the live token’s, changing nothing', async () => {
        const user = await activeUser();
        const link = await resetLink(user.username, 10);

        await expect(
          store.changePassword(
            change(link.user, { resetTokenHash: mintActivationToken().hash }, 100),
          ),
        ).resolves.toBe(false);

        await expectUnchanged(link.user);
      });

      it('refuses the activation token’s hash as a reset token', async () => {
        const { user, activationHash } = await pendingUser();
        await resetLink(user.username, 10);
        const before = await stored(user.username);

        await expect(
          store.changePassword(change(before, { resetTokenHash: activationHash }, 100)),
        ).resolves.toBe(false);

        await expectUnchanged(before);
      });

      it('refuses when the account has no reset token at all', async () => {
        const user = await activeUser();
        await requestReset(user.username, 10);
        const before = await stored(user.username);

        await expect(
          store.changePassword(change(before, { resetTokenHash: mintActivationToken().hash }, 20)),
        ).resolves.toBe(false);

        await expectUnchanged(before);
      });

      it.each([
        ['when it expires', 0],
        ['after it expired', 1],
      ])('refuses the live token %s, changing nothing', async (_case, late) => {
        const user = await activeUser();
        const link = await resetLink(user.username, 10);

        await expect(
          store.changePassword(
            change(link.user, { resetTokenHash: link.tokenHash }, 11 + TOKEN_TTL_SECONDS + late),
          ),
        ).resolves.toBe(false);

        await expectUnchanged(link.user);
      });

      it('refuses the live token of a pending account that expired meanwhile', async () => {
        const { user } = await pendingUser({ expiresAt: epoch(100) });
        const link = await resetLink(user.username, 10);

        await expect(
          store.changePassword(change(link.user, { resetTokenHash: link.tokenHash }, 100)),
        ).resolves.toBe(false);

        await expectUnchanged(link.user);
        await expect(store.findEmailClaim(user.email)).resolves.toEqual({
          username: user.username,
          expiresAt: epoch(100),
        });
      });

      it('refuses a used token: the second change is refused and changes nothing', async () => {
        const user = await activeUser();
        const link = await resetLink(user.username, 10);
        const first = change(link.user, { resetTokenHash: link.tokenHash }, 100);
        await expect(store.changePassword(first)).resolves.toBe(true);
        const after = await stored(user.username);

        await expect(
          store.changePassword(change(link.user, { resetTokenHash: link.tokenHash }, 200)),
        ).resolves.toBe(false);

        await expect(store.findByUsername(user.username)).resolves.toEqual(after);
        expect(after).toMatchObject({
          passwordHash: first.newPasswordHash,
          passwordChangedAt: at(100),
          mailRequestId: first.request.id,
        });
        await expect(sessionsEndedAt(user.username)).resolves.toBe(Date.parse(at(100)));
      });

      it('refuses a token replaced by a newer reset request, and takes the newer one’s', async () => {
        const user = await activeUser();
        const old = await resetLink(user.username, 10);
        const newer = await resetLink(user.username, 20);
        expect(newer.tokenHash).not.toBe(old.tokenHash);

        await expect(
          store.changePassword(change(newer.user, { resetTokenHash: old.tokenHash }, 30)),
        ).resolves.toBe(false);
        await expectUnchanged(newer.user);

        await expect(
          store.changePassword(change(newer.user, { resetTokenHash: newer.tokenHash }, 40)),
        ).resolves.toBe(true);
      });

      it('refuses the reset token after a signed-in change', async () => {
        const user = await activeUser();
        const link = await resetLink(user.username, 10);
        await expect(
          store.changePassword(change(link.user, { passwordHash: user.passwordHash }, 20)),
        ).resolves.toBe(true);
        const after = await stored(user.username);
        expect(after).not.toHaveProperty('passwordResetTokenHash');

        await expect(
          store.changePassword(change(after, { resetTokenHash: link.tokenHash }, 30)),
        ).resolves.toBe(false);

        await expect(store.findByUsername(user.username)).resolves.toEqual(after);
        await expect(sessionsEndedAt(user.username)).resolves.toBe(Date.parse(at(20)));
      });

      it('of 10 concurrent changes with one token, exactly one succeeds, and its write is what is stored', async () => {
        const user = await activeUser();
        const link = await resetLink(user.username, 10);
        const changes = Array.from({ length: 10 }, (_, i) =>
          change(link.user, { resetTokenHash: link.tokenHash }, 100 + i),
        );

        const results = await Promise.all(changes.map((each) => store.changePassword(each)));

        const winners = results.flatMap((result, i) => (result ? [i] : []));
        expect(winners).toHaveLength(1);
        const winner = changes[winners[0]!]!;
        await expect(store.findByUsername(user.username)).resolves.toEqual(
          changed(link.user, winner),
        );
        await expect(sessionsEndedAt(user.username)).resolves.toBe(Date.parse(winner.now));
      });

      it('refuses an unknown user and creates nothing', async () => {
        const written = change(
          { username: 'ghost-reset', email: 'ghost-reset@example.org' },
          { resetTokenHash: mintActivationToken().hash },
          10,
        );

        await expect(store.changePassword(written)).resolves.toBe(false);

        await expect(hasAnyItem('ghost-reset')).resolves.toBe(false);
        await expect(sessionsEndedAt('ghost-reset')).resolves.toBeUndefined();
      });
    });

    describe('changePassword signed in', () => {
      it('sets the new hash of an active account whose hash is the verified one', async () => {
        const user = await activeUser();
        const link = await resetLink(user.username, 10);
        const written = change(link.user, { passwordHash: '$fake$old' }, 100);

        await expect(store.changePassword(written)).resolves.toBe(true);

        await expect(store.findByUsername(user.username)).resolves.toEqual(
          changed(link.user, written),
        );
        await expect(sessionsEndedAt(user.username)).resolves.toBe(Date.parse(at(100)));
      });

      it('refuses a stale hash (the password changed since it was verified), changing nothing', async () => {
        const user = await activeUser();
        await expect(
          store.changePassword(change(user, { passwordHash: '$fake$old' }, 100, '$fake$first')),
        ).resolves.toBe(true);
        const after = await stored(user.username);

        await expect(
          store.changePassword(change(user, { passwordHash: '$fake$old' }, 200, '$fake$second')),
        ).resolves.toBe(false);

        await expect(store.findByUsername(user.username)).resolves.toEqual(after);
        expect(after).toMatchObject({ passwordHash: '$fake$first', passwordChangedAt: at(100) });
        await expect(sessionsEndedAt(user.username)).resolves.toBe(Date.parse(at(100)));
        // The new hash is the proof now.
        await expect(
          store.changePassword(change(after, { passwordHash: '$fake$first' }, 300, '$fake$third')),
        ).resolves.toBe(true);
      });

      it('refuses a hash that is not the account’s', async () => {
        const user = await activeUser();

        await expect(
          store.changePassword(change(user, { passwordHash: '$fake$guess' }, 100)),
        ).resolves.toBe(false);

        await expectUnchanged(user);
      });

      it.each([
        ['in MAIL_SENT', async () => (await pendingUser()).user],
        ['in NONE', () => newUser()],
      ])('refuses a pending account %s, even with its hash', async (_case, make) => {
        const user = await make();

        await expect(
          store.changePassword(change(user, { passwordHash: user.passwordHash }, 100)),
        ).resolves.toBe(false);

        await expectUnchanged(user);
        await expect(store.findEmailClaim(user.email)).resolves.toEqual({
          username: user.username,
          expiresAt: epoch(PENDING_SECONDS),
        });
      });

      it('of 10 concurrent changes with one verified hash, exactly one succeeds', async () => {
        const user = await activeUser();
        const changes = Array.from({ length: 10 }, (_, i) =>
          change(user, { passwordHash: user.passwordHash }, 100 + i),
        );

        const results = await Promise.all(changes.map((each) => store.changePassword(each)));

        const winners = results.flatMap((result, i) => (result ? [i] : []));
        expect(winners).toHaveLength(1);
        const winner = changes[winners[0]!]!;
        await expect(store.findByUsername(user.username)).resolves.toEqual(changed(user, winner));
        await expect(sessionsEndedAt(user.username)).resolves.toBe(Date.parse(winner.now));
      });
    });

    describe('the unsent password-changed notice holds its place', () => {
      const HOLD = PASSWORD_CHANGED_NOTICE_HOLD_SECONDS;

      /** An active account whose password changed at 100 s; its notice is open, unsent. */
      async function justChanged(): Promise<NewUserRecord> {
        const user = await activeUser();
        await expect(
          store.changePassword(change(user, { passwordHash: user.passwordHash }, 100)),
        ).resolves.toBe(true);
        return stored(user.username);
      }

      it.each([MailRequestKind.PASSWORD_RESET, MailRequestKind.ALREADY_ACTIVE])(
        'refuses a %s request until the hold ends (to its last second), changing nothing',
        async (kind) => {
          const after = await justChanged();

          await expect(
            store.requestMail(after.username, newMailRequest(kind), at(100 + HOLD - 1)),
          ).resolves.toBe(false);

          await expect(store.findByUsername(after.username)).resolves.toEqual(after);
        },
      );

      it('answers QUIET to a sign-up notice until the hold ends, changing nothing', async () => {
        const after = await justChanged();

        await expect(
          store.requestSignUpNotice(
            after.username,
            after.email,
            newMailRequest(MailRequestKind.SIGN_UP_ATTEMPT),
            at(101),
            at(101 - 3600),
          ),
        ).resolves.toBe('QUIET');

        await expect(store.findByUsername(after.username)).resolves.toEqual(after);
      });

      it('lets a request replace it once the hold has ended (at its end exactly)', async () => {
        const after = await justChanged();
        const request = newMailRequest(MailRequestKind.PASSWORD_RESET);

        await expect(store.requestMail(after.username, request, at(100 + HOLD + 1))).resolves.toBe(
          true,
        );

        await expect(stored(after.username)).resolves.toMatchObject({
          mailRequestId: request.id,
          mailRequestKind: MailRequestKind.PASSWORD_RESET,
        });
      });

      it('lets a request open at once after the notice was sent', async () => {
        const after = await justChanged();
        await expect(
          store.claimAccountNotice(after.username, {
            claimId: 'notice-mailer',
            requestId: after.mailRequestId!,
            leaseExpiresAt: at(101 + LEASE_SECONDS),
            now: at(101),
          }),
        ).resolves.toEqual({ claimed: true });
        await expect(store.markNoticeSent(after.username, 'notice-mailer')).resolves.toBe(true);

        await expect(
          store.requestMail(
            after.username,
            newMailRequest(MailRequestKind.PASSWORD_RESET),
            at(102),
          ),
        ).resolves.toBe(true);
      });

      it('gives way to another password change: its notice is the newer one', async () => {
        const after = await justChanged();
        const second = change(after, { passwordHash: after.passwordHash }, 101, '$fake$again');

        await expect(store.changePassword(second)).resolves.toBe(true);

        await expect(stored(after.username)).resolves.toMatchObject({
          mailRequestId: second.request.id,
          mailRequestKind: MailRequestKind.PASSWORD_CHANGED,
        });
      });
    });

    describe('activate and the reset link', () => {
      it('removes a live reset token: the reset link dies with activation', async () => {
        const { user, activationHash } = await pendingUser();
        const link = await resetLink(user.username, 10);

        await expect(store.activate(link.user, activationHash, at(20))).resolves.toBe(true);

        const after = await stored(user.username);
        expect(after).toEqual({
          ...without(link.user, ...RESET_TOKEN, 'expiresAt'),
          activationStatus: ActivationStatus.DONE,
          activatedAt: at(20),
        });
        await expect(
          store.changePassword(change(after, { resetTokenHash: link.tokenHash }, 30)),
        ).resolves.toBe(false);
        await expectUnchanged(after);
      });

      it('closes an open reset request and its claim', async () => {
        const { user, activationHash } = await pendingUser();
        const link = await resetLink(user.username, 10, { sent: false });

        await expect(store.activate(link.user, activationHash, at(20))).resolves.toBe(true);

        const after = await stored(user.username);
        expect(after).toEqual({
          ...without(
            link.user,
            ...RESET_TOKEN,
            ...SEND_CLAIM,
            'mailRequestId',
            'mailRequestKind',
            'expiresAt',
          ),
          activationStatus: ActivationStatus.DONE,
          activatedAt: at(20),
        });
        await expect(store.markNoticeSent(user.username, link.claimId)).resolves.toBe(false);
        await expect(
          store.claimPasswordResetMail(
            user.username,
            resetClaimAt(21, 'late', link.request.id, mintActivationToken().hash),
          ),
        ).resolves.toEqual({ claimed: false, reason: 'NOT_OPEN' });
      });
    });
  });
}
