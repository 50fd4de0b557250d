/**
 * Two runs: every test on the project's own dependencies (Nest 11), then the Nest tests again on Nest 12
 * (installed in test/nest12, an ESM-only release: jest transforms it to CommonJS like our own sources).
 * @type {import('jest').Config}
 */
const shared = { testEnvironment: 'node' };

module.exports = {
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // Broker-bound tests share two cores with the broker: one file at a time.
  maxWorkers: 1,
  projects: [
    {
      ...shared,
      displayName: 'nest11',
      globals: { NEST_MAJOR: 11 },
      transform: { '^.+\\.ts$': 'ts-jest' },
      testMatch: ['<rootDir>/test/**/*.spec.ts'],
    },
    {
      ...shared,
      displayName: 'nest12',
      globals: { NEST_MAJOR: 12 },
      testMatch: [
        '<rootDir>/test/nest/**/*.spec.ts', '<rootDir>/test/e2e/nest-app.e2e.spec.ts', '<rootDir>/test/e2e/nest-consumers.e2e.spec.ts',
        '<rootDir>/test/e2e/microservice.e2e.spec.ts', '<rootDir>/test/e2e/microservice-modes.e2e.spec.ts',
        '<rootDir>/test/e2e/microservice-parity.e2e.spec.ts', '<rootDir>/test/e2e/microservice-shutdown.e2e.spec.ts',
        '<rootDir>/test/integration/diagnostics.mock.spec.ts', '<rootDir>/test/integration/prometheus.mock.spec.ts',
      ],
      moduleNameMapper: {
        '^@nestjs/(common|core|testing|platform-express|terminus|microservices)(/.*)?$': '<rootDir>/test/nest12/node_modules/@nestjs/$1$2',
      },
      transform: { '^.+\\.[tj]s$': '<rootDir>/test/support/nest12-transformer.js' },
      // Our sources and Nest 12 with its ESM dependencies are transformed; the root node_modules are not.
      transformIgnorePatterns: ['<rootDir>/node_modules/'],
    },
  ],
};
