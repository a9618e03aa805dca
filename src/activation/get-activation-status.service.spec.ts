import { ActivationStatus } from './activation-status';
import { UserStoreError } from './activation.errors';
import { GetActivationStatusService } from './get-activation-status.service';
import { InMemoryUserStore } from './testing/in-memory-user-store';

describe('GetActivationStatusService', () => {
  let store: InMemoryUserStore;
  let service: GetActivationStatusService;

  async function addUser(username: string, activationStatus: ActivationStatus): Promise<void> {
    await store.create({
      username,
      email: `${username}@example.org`,
      name: 'Alice Liddell',
      passwordHash: '$fake$00',
      activationStatus,
      activationUrlBase: 'https://cards.example/activate',
      createdAt: '2026-03-01T08:30:00.000Z',
    });
  }

  beforeEach(() => {
    store = new InMemoryUserStore();
    service = new GetActivationStatusService(store);
  });

  it.each(Object.values(ActivationStatus))('answers the stored status %s', async (status) => {
    await addUser('alice', status);

    await expect(service.statusOf('alice')).resolves.toBe(status);
  });

  it('answers "" for an unknown user', async () => {
    await addUser('alice', ActivationStatus.NONE);

    await expect(service.statusOf('bob')).resolves.toBe('');
  });

  it.each([
    ['empty', ''],
    ['too short', 'al'],
    ['too long (33 characters)', 'a'.repeat(33)],
    ['far too long for a DynamoDB key', 'a'.repeat(5000)],
    ['not normalised', 'Alice'],
    ['with a space', 'al ice'],
  ])('answers "" for a username that is %s, without asking the store', async (_case, username) => {
    const find = jest.spyOn(store, 'findByUsername');

    const status = await service.statusOf(username);

    expect(status).toBe('');
    expect(find).not.toHaveBeenCalled();
  });

  it('wraps a store failure in UserStoreError, keeping the cause', async () => {
    const failure = new Error('ProvisionedThroughputExceededException');
    jest.spyOn(store, 'findByUsername').mockRejectedValue(failure);

    const asking = service.statusOf('alice');

    await expect(asking).rejects.toBeInstanceOf(UserStoreError);
    await expect(asking).rejects.toMatchObject({ code: 'USER_STORE_FAILED', cause: failure });
  });
});
