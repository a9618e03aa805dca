import { ConfigError, loadConfig } from './app-config';

function configErrorOf(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  describe('with an empty environment', () => {
    it('uses the documented defaults', () => {
      const config = loadConfig({});

      expect(config).toEqual({
        mode: 'local',
        http: {
          host: '127.0.0.1',
          port: 3000,
          publicBaseUrl: 'http://localhost:3000',
          activationUrlBase: 'http://localhost:3000/activate',
          apiDocs: 'ui',
        },
        dynamodb: {
          region: 'us-east-1',
          endpoint: undefined,
          localPort: 8000,
          tables: {
            users: 'User',
            userEmails: 'UserEmail',
            sessions: 'UserSession',
            rateLimits: 'RateLimit',
          },
        },
        localDataDir: '.local-data',
        session: { ttlSeconds: 12 * 3600, secureCookie: false },
        logLevel: 'info',
        activation: {
          fromAddress: 'Digital Card Store <no-reply@card-store.example>',
          tokenTtlSeconds: 72 * 3600,
          passwordResetTokenTtlSeconds: 3600,
          claimLeaseSeconds: 60,
          pendingAccountTtlSeconds: 604800,
        },
        stepFunctions: {
          endpoint: undefined,
          localPort: 8083,
          stateMachineName: 'SF_CardStore_SendUserActivationMail',
        },
        ses: { endpoint: undefined, localPort: 8005, localThrottleRate: 0 },
        rateLimits: {
          scale: 1,
          policies: {
            'login-account-address': {
              key: 'account-address',
              limit: 5,
              windowSeconds: 900,
              lockSeconds: 900,
            },
            'login-account': { key: 'account', limit: 100, windowSeconds: 3600, lockSeconds: 3600 },
            'login-address': { key: 'address', limit: 60, windowSeconds: 900, lockSeconds: 900 },
            'register-address': {
              key: 'address',
              limit: 20,
              windowSeconds: 3600,
              lockSeconds: 3600,
            },
            'activate-address': { key: 'address', limit: 30, windowSeconds: 900, lockSeconds: 900 },
            'activate-account': {
              key: 'account',
              limit: 10,
              windowSeconds: 3600,
              lockSeconds: 3600,
            },
            'mail-cooldown': { key: 'identifier', limit: 1, windowSeconds: 60, lockSeconds: 60 },
            'mail-daily': {
              key: 'identifier',
              limit: 5,
              windowSeconds: 86_400,
              lockSeconds: 86_400,
            },
            'mail-address': { key: 'address', limit: 20, windowSeconds: 3600, lockSeconds: 3600 },
            'password-reset-address': {
              key: 'address',
              limit: 30,
              windowSeconds: 900,
              lockSeconds: 900,
            },
            'password-reset-account': {
              key: 'account',
              limit: 10,
              windowSeconds: 3600,
              lockSeconds: 3600,
            },
          },
        },
      });
    });

    it('has no DynamoDB endpoint, meaning "start an embedded one"', () => {
      expect(loadConfig({}).dynamodb.endpoint).toBeUndefined();
    });
  });

  it('reads every variable it knows', () => {
    const config = loadConfig({
      CARD_STORE_MODE: 'local',
      HOST: '0.0.0.0',
      PORT: '8080',
      PUBLIC_BASE_URL: 'https://cards.example',
      API_DOCS: 'json',
      AWS_REGION: 'eu-west-1',
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:8001',
      DYNAMODB_LOCAL_PORT: '8002',
      LOCAL_DATA_DIR: '/var/lib/card-store',
      USER_TABLE_NAME: 'prod.User',
      USER_EMAIL_TABLE_NAME: 'prod.UserEmail',
      SESSION_TABLE_NAME: 'prod_User-Session',
      SESSION_TTL_SECONDS: '3600',
      LOG_LEVEL: 'debug',
      FROM_ADDRESS: 'Cards <cards@mail.example>',
      ACTIVATION_TOKEN_TTL_SECONDS: '3600',
      PASSWORD_RESET_TOKEN_TTL_SECONDS: '900',
      ACTIVATION_MAIL_LEASE_SECONDS: '30',
      PENDING_ACCOUNT_TTL_SECONDS: '86400',
      SFN_ENDPOINT: 'http://127.0.0.1:9083/',
      SFN_LOCAL_PORT: '9084',
      STATE_MACHINE_NAME: 'Staging_SendMail',
      SES_ENDPOINT: 'http://127.0.0.1:9005',
      SES_LOCAL_PORT: '9006',
      SES_LOCAL_THROTTLE_RATE: '0.3',
      RATE_LIMIT_TABLE_NAME: 'prod.RateLimit',
      RATE_LIMIT_SCALE: '2',
      RATE_LIMIT_LOGIN_PER_ACCOUNT_AND_ADDRESS: '3/10m',
      RATE_LIMIT_LOGIN_PER_ACCOUNT: '50/2h',
      RATE_LIMIT_LOGIN_PER_ADDRESS: '40/5m',
      RATE_LIMIT_REGISTER_PER_ADDRESS: '10/1d',
      RATE_LIMIT_ACTIVATE_PER_ADDRESS: '25/30s',
      RATE_LIMIT_ACTIVATE_PER_ACCOUNT: '7/20m',
      RATE_LIMIT_MAIL_COOLDOWN: '1/90s',
      RATE_LIMIT_MAIL_PER_DAY: '4/1d',
      RATE_LIMIT_MAIL_PER_ADDRESS: '10/1h',
      RATE_LIMIT_PASSWORD_RESET_PER_ADDRESS: '60/15m',
      RATE_LIMIT_PASSWORD_RESET_PER_ACCOUNT: '20/1h',
    });

    expect(config).toEqual({
      mode: 'local',
      http: {
        host: '0.0.0.0',
        port: 8080,
        publicBaseUrl: 'https://cards.example',
        activationUrlBase: 'https://cards.example/activate',
        apiDocs: 'json',
      },
      dynamodb: {
        region: 'eu-west-1',
        endpoint: 'http://127.0.0.1:8001',
        localPort: 8002,
        tables: {
          users: 'prod.User',
          userEmails: 'prod.UserEmail',
          sessions: 'prod_User-Session',
          rateLimits: 'prod.RateLimit',
        },
      },
      localDataDir: '/var/lib/card-store',
      session: { ttlSeconds: 3600, secureCookie: true },
      logLevel: 'debug',
      activation: {
        fromAddress: 'Cards <cards@mail.example>',
        tokenTtlSeconds: 3600,
        passwordResetTokenTtlSeconds: 900,
        claimLeaseSeconds: 30,
        pendingAccountTtlSeconds: 86400,
      },
      stepFunctions: {
        endpoint: 'http://127.0.0.1:9083',
        localPort: 9084,
        stateMachineName: 'Staging_SendMail',
      },
      ses: { endpoint: 'http://127.0.0.1:9005', localPort: 9006, localThrottleRate: 0.3 },
      rateLimits: {
        scale: 2,
        policies: {
          'login-account-address': {
            key: 'account-address',
            limit: 6,
            windowSeconds: 600,
            lockSeconds: 600,
          },
          'login-account': { key: 'account', limit: 100, windowSeconds: 7200, lockSeconds: 7200 },
          'login-address': { key: 'address', limit: 80, windowSeconds: 300, lockSeconds: 300 },
          'register-address': {
            key: 'address',
            limit: 20,
            windowSeconds: 86_400,
            lockSeconds: 86_400,
          },
          'activate-address': { key: 'address', limit: 50, windowSeconds: 30, lockSeconds: 30 },
          'activate-account': { key: 'account', limit: 14, windowSeconds: 1200, lockSeconds: 1200 },
          'mail-cooldown': { key: 'identifier', limit: 2, windowSeconds: 90, lockSeconds: 90 },
          'mail-daily': { key: 'identifier', limit: 8, windowSeconds: 86_400, lockSeconds: 86_400 },
          'mail-address': { key: 'address', limit: 20, windowSeconds: 3600, lockSeconds: 3600 },
          'password-reset-address': {
            key: 'address',
            limit: 120,
            windowSeconds: 900,
            lockSeconds: 900,
          },
          'password-reset-account': {
            key: 'account',
            limit: 40,
            windowSeconds: 3600,
            lockSeconds: 3600,
          },
        },
      },
    });
  });

  describe('public base URL', () => {
    it('follows PORT when PUBLIC_BASE_URL is not set', () => {
      const config = loadConfig({ PORT: '8080' });

      expect(config.http.publicBaseUrl).toBe('http://localhost:8080');
      expect(config.http.activationUrlBase).toBe('http://localhost:8080/activate');
    });

    it('treats an empty PUBLIC_BASE_URL as unset', () => {
      expect(loadConfig({ PUBLIC_BASE_URL: '  ' }).http.publicBaseUrl).toBe(
        'http://localhost:3000',
      );
    });

    it.each([
      ['https://cards.example/', 'https://cards.example'],
      ['https://cards.example//', 'https://cards.example'],
      ['http://cards.example:8443/api/', 'http://cards.example:8443/api'],
    ])('strips the trailing slashes of %j', (url, base) => {
      const config = loadConfig({ PUBLIC_BASE_URL: url });

      expect(config.http.publicBaseUrl).toBe(base);
      expect(config.http.activationUrlBase).toBe(`${base}/activate`);
    });

    it('strips the trailing slash of DYNAMODB_ENDPOINT', () => {
      expect(loadConfig({ DYNAMODB_ENDPOINT: 'http://127.0.0.1:8001/' }).dynamodb.endpoint).toBe(
        'http://127.0.0.1:8001',
      );
    });

    it.each([
      ['https://cards.example', true],
      ['http://cards.example', false],
    ])('asks for Secure cookies with %s: %s', (url, secure) => {
      expect(loadConfig({ PUBLIC_BASE_URL: url }).session.secureCookie).toBe(secure);
    });
  });

  describe('with a bad value', () => {
    it.each([
      ['PORT', 'abc'],
      ['PORT', '0'],
      ['PORT', '70000'],
      ['PORT', '-1'],
      ['PORT', '3000.5'],
      ['PORT', ''],
      ['DYNAMODB_LOCAL_PORT', '65536'],
      ['SESSION_TTL_SECONDS', '59'],
      ['SESSION_TTL_SECONDS', String(30 * 24 * 3600 + 1)],
      ['PUBLIC_BASE_URL', 'ftp://x'],
      ['PUBLIC_BASE_URL', 'localhost:3000'],
      ['PUBLIC_BASE_URL', 'http://cards.example/?ref=mail'],
      ['PUBLIC_BASE_URL', 'http://cards.example/#top'],
      ['PUBLIC_BASE_URL', 'http://'],
      ['PUBLIC_BASE_URL', 'http://cards example'],
      ['DYNAMODB_ENDPOINT', 'localhost:8000'],
      ['AWS_REGION', 'europe'],
      ['LOCAL_DATA_DIR', '   '],
      ['USER_TABLE_NAME', 'ab'],
      ['USER_TABLE_NAME', 'User Table'],
      ['USER_EMAIL_TABLE_NAME', 'User/Email'],
      ['SESSION_TABLE_NAME', 'x'.repeat(256)],
      ['LOG_LEVEL', 'verbose'],
      ['LOG_LEVEL', 'INFO'],
      ['HOST', ''],
      ['HOST', ' '],
      ['FROM_ADDRESS', 'nobody'],
      ['FROM_ADDRESS', 'a@b.example\r\nBcc: x@y.example'],
      ['FROM_ADDRESS', 'Name <not an address>'],
      ['ACTIVATION_TOKEN_TTL_SECONDS', '60'],
      ['PASSWORD_RESET_TOKEN_TTL_SECONDS', '60'],
      ['PASSWORD_RESET_TOKEN_TTL_SECONDS', '86401'],
      ['ACTIVATION_MAIL_LEASE_SECONDS', '1'],
      ['ACTIVATION_MAIL_LEASE_SECONDS', '241'],
      ['PENDING_ACCOUNT_TTL_SECONDS', '0'],
      ['PENDING_ACCOUNT_TTL_SECONDS', '7d'],
      ['SFN_ENDPOINT', '127.0.0.1:8083'],
      ['SFN_LOCAL_PORT', '0'],
      ['STATE_MACHINE_NAME', 'has space'],
      ['STATE_MACHINE_NAME', 'x'.repeat(81)],
      ['SES_ENDPOINT', 'smtp://127.0.0.1'],
      ['SES_LOCAL_PORT', '65536'],
      ['SES_LOCAL_THROTTLE_RATE', '1.5'],
      ['SES_LOCAL_THROTTLE_RATE', '-0.1'],
      ['SES_LOCAL_THROTTLE_RATE', '30%'],
      ['RATE_LIMIT_TABLE_NAME', 'Rate Limit'],
      ['RATE_LIMIT_SCALE', '0'],
      ['RATE_LIMIT_SCALE', '1.5'],
      ['RATE_LIMIT_SCALE', '1000001'],
      ['ALLOW_RATE_LIMIT_SCALE_IN_AWS', 'yes'],
      ['API_DOCS', 'swagger'],
      ['API_DOCS', 'UI'],
      ['API_DOCS', 'true'],
      ['RATE_LIMIT_LOGIN_PER_ADDRESS', '5 per minute'],
      ['RATE_LIMIT_LOGIN_PER_ADDRESS', '0/1m'],
      ['RATE_LIMIT_REGISTER_PER_ADDRESS', '5/1w'],
      ['RATE_LIMIT_MAIL_COOLDOWN', '1/0s'],
      ['CARD_STORE_MODE', 'AWS'],
      ['CARD_STORE_MODE', 'cloud'],
      ['CARD_STORE_MODE', ''],
    ])('refuses %s=%j with a ConfigError naming the variable and the value', (name, value) => {
      const error = configErrorOf({ [name]: value });

      expect(error.code).toBe('INVALID_CONFIGURATION');
      expect(error.problems.length).toBeGreaterThan(0);
      for (const problem of error.problems) {
        expect(problem).toMatch(new RegExp(`^${name} `));
        expect(problem).toContain(`(got ${JSON.stringify(value)})`);
      }
      expect(error.message).toContain(name);
      expect(error.message).toContain(JSON.stringify(value));
    });

    it('says what a valid value looks like', () => {
      const error = configErrorOf({ PUBLIC_BASE_URL: 'ftp://x' });

      expect(error.problems).toEqual([
        'PUBLIC_BASE_URL must be an absolute http(s) URL without query or fragment (got "ftp://x")',
      ]);
    });

    it('reports one problem per variable, the first rule it breaks', () => {
      expect(configErrorOf({ PORT: 'abc' }).problems).toEqual([
        'PORT must be an integer (got "abc")',
      ]);
    });

    it('lists the allowed log levels', () => {
      expect(configErrorOf({ LOG_LEVEL: 'verbose' }).problems).toEqual([
        'LOG_LEVEL must be one of the following values: fatal, error, warn, info, debug, trace, silent (got "verbose")',
      ]);
    });
  });

  describe('aws mode (CARD_STORE_MODE=aws)', () => {
    const AWS = { CARD_STORE_MODE: 'aws', AWS_REGION: 'eu-west-1' };

    it('uses the region it is given and no endpoint, so every client talks to AWS', () => {
      const config = loadConfig(AWS);

      expect(config.mode).toBe('aws');
      expect(config.dynamodb).toMatchObject({ region: 'eu-west-1', endpoint: undefined });
      expect(config.stepFunctions.endpoint).toBeUndefined();
      expect(config.ses.endpoint).toBeUndefined();
    });

    it('otherwise reads the same variables as local mode', () => {
      const shared = {
        PUBLIC_BASE_URL: 'https://cards.example',
        USER_TABLE_NAME: 'prod.User',
        USER_EMAIL_TABLE_NAME: 'prod.UserEmail',
        SESSION_TABLE_NAME: 'prod.UserSession',
        LOG_LEVEL: 'warn',
        // The one default that follows the mode (see 'the API docs' below).
        API_DOCS: 'json',
      };

      const { mode, ...aws } = loadConfig({ ...AWS, ...shared });
      const { mode: _local, ...local } = loadConfig({ AWS_REGION: 'eu-west-1', ...shared });

      expect(mode).toBe('aws');
      expect(aws).toEqual(local);
    });

    it.each(['DYNAMODB_ENDPOINT', 'SFN_ENDPOINT', 'SES_ENDPOINT'])(
      'refuses %s, saying it is for local mode',
      (name) => {
        const error = configErrorOf({ ...AWS, [name]: 'http://127.0.0.1:8000' });

        expect(error.problems).toEqual([
          `${name} is for local mode only; unset it with CARD_STORE_MODE=aws (got "http://127.0.0.1:8000")`,
        ]);
      },
    );

    it('refuses RATE_LIMIT_SCALE unless ALLOW_RATE_LIMIT_SCALE_IN_AWS says it is meant', () => {
      expect(configErrorOf({ ...AWS, RATE_LIMIT_SCALE: '1000' }).problems).toEqual([
        'RATE_LIMIT_SCALE raises every rate limit and is for load tests; with CARD_STORE_MODE=aws it needs ALLOW_RATE_LIMIT_SCALE_IN_AWS=true as well (got "1000")',
      ]);
      const meant = loadConfig({
        ...AWS,
        RATE_LIMIT_SCALE: '1000',
        ALLOW_RATE_LIMIT_SCALE_IN_AWS: 'true',
      });
      expect(meant.rateLimits.policies['login-address'].limit).toBe(60_000);
      expect(loadConfig(AWS).rateLimits.scale).toBe(1);
    });

    it('treats an empty endpoint variable as unset, as local mode does', () => {
      expect(loadConfig({ ...AWS, DYNAMODB_ENDPOINT: ' ' }).dynamodb.endpoint).toBeUndefined();
    });

    it('reports a malformed endpoint once, by the rule it breaks', () => {
      expect(configErrorOf({ ...AWS, SES_ENDPOINT: 'smtp://x' }).problems).toEqual([
        'SES_ENDPOINT must be an absolute http(s) URL without query or fragment (got "smtp://x")',
      ]);
    });

    it('refuses to start without AWS_REGION instead of defaulting to us-east-1', () => {
      const error = configErrorOf({ CARD_STORE_MODE: 'aws' });

      expect(error.problems).toEqual([
        'AWS_REGION must be set with CARD_STORE_MODE=aws: aws mode has no default region (got "")',
      ]);
    });

    it('reports every aws-mode problem together', () => {
      const error = configErrorOf({
        CARD_STORE_MODE: 'aws',
        DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
        SFN_ENDPOINT: 'http://127.0.0.1:8083',
        PORT: 'abc',
      });

      const variables = error.problems.map((problem) => problem.split(' ')[0]);
      expect(variables.sort()).toEqual(['AWS_REGION', 'DYNAMODB_ENDPOINT', 'PORT', 'SFN_ENDPOINT']);
    });

    it('keeps local mode as it was: endpoints allowed, us-east-1 by default', () => {
      const config = loadConfig({ DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' });

      expect(config.mode).toBe('local');
      expect(config.dynamodb).toMatchObject({
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:8000',
      });
    });
  });

  describe('the API docs (API_DOCS)', () => {
    it('serves the document and Swagger UI in local mode, the document only in aws mode', () => {
      expect(loadConfig({}).http.apiDocs).toBe('ui');
      expect(loadConfig({ CARD_STORE_MODE: 'aws', AWS_REGION: 'eu-west-1' }).http.apiDocs).toBe(
        'json',
      );
    });

    it.each([
      ['local', 'off'],
      ['local', 'json'],
      ['aws', 'ui'],
      ['aws', 'off'],
    ])('in %s mode takes API_DOCS=%s as given', (mode, value) => {
      const config = loadConfig({
        CARD_STORE_MODE: mode,
        AWS_REGION: 'eu-west-1',
        API_DOCS: value,
      });

      expect(config.http.apiDocs).toBe(value);
    });

    it('treats an empty API_DOCS as unset', () => {
      expect(loadConfig({ API_DOCS: ' ' }).http.apiDocs).toBe('ui');
    });

    it('lists the allowed values', () => {
      expect(configErrorOf({ API_DOCS: 'swagger' }).problems).toEqual([
        'API_DOCS must be one of the following values: ui, json, off (got "swagger")',
      ]);
    });
  });

  it('reports several bad variables together', () => {
    const error = configErrorOf({
      PORT: '0',
      PUBLIC_BASE_URL: 'ftp://x',
      USER_TABLE_NAME: 'ab',
      LOG_LEVEL: 'loud',
    });

    const variables = new Set(error.problems.map((problem) => problem.split(' ')[0]));
    expect(variables).toEqual(new Set(['PORT', 'PUBLIC_BASE_URL', 'USER_TABLE_NAME', 'LOG_LEVEL']));
    expect(error.message).toMatch(/^Invalid configuration:\n {2}- /);
  });

  it('ignores variables it does not know, even malformed ones', () => {
    const config = loadConfig({
      PATH: '/usr/bin',
      HOME: '/root',
      NODE_ENV: 'production',
      port: 'abc',
      PORT_NUMBER: 'abc',
      npm_config_loglevel: 'verbose',
    });

    expect(config).toEqual(loadConfig({}));
  });

  it('ignores variables named after Object.prototype members', () => {
    const config = loadConfig({
      constructor: 'x',
      toString: 'x',
      hasOwnProperty: 'x',
      valueOf: 'x',
    });

    expect(config).toEqual(loadConfig({}));
  });

  it('reads process.env when given no environment', () => {
    const saved = process.env.PORT;
    process.env.PORT = '4321';
    try {
      expect(loadConfig().http.port).toBe(4321);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });
});
