import { ActivationMailRequestService } from './activation-mail-request.service';
import { ActivationStatus } from './activation-status';
import { MailRequestKind } from './mail-request';
import { activateDirectly } from './testing/activate-directly';
import { FixedClock } from './testing/fixed-clock';
import { InMemoryUserStore } from './testing/in-memory-user-store';
import type { UserRecord } from './user';

const NOW = '2026-01-15T10:00:00.000Z';
const nowSeconds = Date.parse(NOW) / 1000;

const pending = (changes: Partial<UserRecord> = {}): UserRecord => ({
  username: 'alice',
  email: 'Alice@Bücher.example',
  name: 'Alice Liddell',
  passwordHash: '$fake$00',
  activationStatus: ActivationStatus.MAIL_SENT,
  activationUrlBase: 'https://cards.example/activate',
  createdAt: '2026-01-15T09:00:00.000Z',
  activationTokenHash: 'a'.repeat(64),
  activationTokenExpiresAt: '2026-01-16T09:00:00.000Z',
  expiresAt: nowSeconds + 3600,
  ...changes,
});

describe('ActivationMailRequestService', () => {
  let store: InMemoryUserStore;
  let clock: FixedClock;
  let service: ActivationMailRequestService;

  beforeEach(() => {
    store = new InMemoryUserStore();
    clock = new FixedClock(NOW);
    service = new ActivationMailRequestService(store, clock);
  });

  it('gives a pending account, found by any spelling of its address, a new activation request', async () => {
    await store.create(pending());

    await expect(service.request({ email: ' alice@xn--bcher-kva.EXAMPLE ' })).resolves.toBe(
      'ACTIVATION',
    );

    const user = await store.findByUsername('alice');
    expect(user).toMatchObject({
      activationStatus: ActivationStatus.NONE,
      mailRequestKind: MailRequestKind.ACTIVATION,
    });
    expect(user?.activationTokenHash).toBeUndefined();
  });

  it('asks an "already active" notice for an active account, found by its username', async () => {
    await store.create(
      pending({ activationStatus: ActivationStatus.NONE, activationTokenHash: undefined }),
    );
    await activateDirectly(store, 'alice', new Date(NOW));

    await expect(service.request({ username: ' ALICE ' })).resolves.toBe('ALREADY_ACTIVE');

    expect(await store.findByUsername('alice')).toMatchObject({
      activationStatus: ActivationStatus.DONE,
      mailRequestKind: MailRequestKind.ALREADY_ACTIVE,
    });
  });

  it('writes nothing for an unknown account, an expired one, or input no account can have', async () => {
    await store.create(
      pending({ username: 'old', email: 'old@example.org', expiresAt: nowSeconds }),
    );
    const before = store.all();

    const outcomes = [
      await service.request({ email: 'nobody@example.org' }),
      await service.request({ username: 'nobody' }),
      await service.request({ email: 'old@example.org' }),
      await service.request({ username: 'old' }),
      await service.request({ email: 'not an address' }),
      await service.request({ username: 'x' }),
    ];

    expect(outcomes).toEqual(Array(6).fill('NOTHING'));
    expect(store.all()).toEqual(before);
  });

  it("writes nothing through a stale claim: the claim's account has another address now", async () => {
    await store.create(pending({ email: 'new@example.org' }));
    store.putLegacyEmailClaim('gone@example.org', 'alice');

    await expect(service.request({ email: 'gone@example.org' })).resolves.toBe('NOTHING');
    expect((await store.findByUsername('alice'))?.mailRequestId).toBeUndefined();
  });
});
