import { ActivationStatus, EmailTakenError, type NewUserRecord, UsernameTakenError } from '..';
import { InMemoryUserStore } from './in-memory-user-store';
import { describePasswordStoreContract } from './password-store.contract';
import { describeUserStoreContract } from './user-store.contract';

// The fake must keep the real store's contract, or the core's tests prove nothing.
const alice: NewUserRecord = {
  username: 'alice',
  email: 'Alice@Example.org',
  name: 'Alice',
  passwordHash: '$fake$00',
  activationStatus: ActivationStatus.NONE,
  activationUrlBase: 'https://cards.example/activate',
  createdAt: '2026-03-01T08:30:00.000Z',
};

describe('InMemoryUserStore', () => {
  let store: InMemoryUserStore;

  beforeEach(() => {
    store = new InMemoryUserStore();
  });

  it('finds a created user by username', async () => {
    await store.create(alice);

    await expect(store.findByUsername('alice')).resolves.toEqual(alice);
  });

  it('finds nothing for an unknown username', async () => {
    await expect(store.findByUsername('nobody')).resolves.toBeUndefined();
  });

  it('refuses a second user with the same username, keeping the first', async () => {
    await store.create(alice);

    await expect(
      store.create({ ...alice, email: 'other@example.org', name: 'Other' }),
    ).rejects.toThrow(UsernameTakenError);
    await expect(store.findByUsername('alice')).resolves.toMatchObject({ name: 'Alice' });
  });

  it('refuses a second user with the same email key, storing nothing of it', async () => {
    await store.create(alice);

    await expect(
      store.create({ ...alice, username: 'bob', email: 'alice@example.ORG' }),
    ).rejects.toThrow(EmailTakenError);
    await expect(store.findByUsername('bob')).resolves.toBeUndefined();
  });

  it('does not claim the email of a user refused for its username', async () => {
    await store.create(alice);
    await expect(store.create({ ...alice, email: 'carol@example.org' })).rejects.toThrow(
      UsernameTakenError,
    );

    await expect(
      store.create({ ...alice, username: 'carol', email: 'carol@example.org' }),
    ).resolves.toBeUndefined();
  });

  it('hands out copies, so a caller cannot change what is stored', async () => {
    await store.create(alice);
    const found = (await store.findByUsername('alice')) as { activationStatus: string };

    found.activationStatus = ActivationStatus.DONE;

    await expect(store.findByUsername('alice')).resolves.toMatchObject({
      activationStatus: ActivationStatus.NONE,
    });
  });

  it('hands out copies of records that went through the claim and activation writes', async () => {
    await store.create(alice);
    await store.claimActivationMail('alice', {
      claimId: 'holder',
      tokenHash: 'a'.repeat(64),
      tokenExpiresAt: '2026-03-01T10:30:00.000Z',
      leaseExpiresAt: '2026-03-01T08:31:00.000Z',
      now: '2026-03-01T08:30:00.000Z',
    });
    const found = (await store.findByUsername('alice')) as { mailClaimId?: string };

    found.mailClaimId = 'thief';

    await expect(store.markMailSent('alice', 'thief', '2026-03-01T08:30:01.000Z')).resolves.toBe(
      false,
    );
  });

  describeUserStoreContract(() => {
    const subject = new InMemoryUserStore();
    return {
      store: subject,
      putLegacyEmailClaim: async (key, username) => subject.putLegacyEmailClaim(key, username),
      putLegacyUser: async (user) => subject.putLegacyUser(user),
    };
  });

  describePasswordStoreContract(() => {
    const subject = new InMemoryUserStore();
    return {
      store: subject,
      sessionsEndedAt: async (username) => {
        const endedAt = subject.sessionsEndedAt(username);
        return endedAt === undefined ? undefined : Date.parse(endedAt);
      },
    };
  });
});
