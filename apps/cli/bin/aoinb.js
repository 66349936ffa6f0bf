#!/usr/bin/env node
// The installed `aoinb`: the CLI as built by `npm run build` (apps/cli/dist/, see
// scripts/build-apps.ts). From a checkout without building, bin/aoinb-dev.js runs the
// TypeScript sources through tsx.
if (process.env.AOINB_DEBUG === '1') process.setSourceMapsEnabled(true); // stack traces name the .ts lines
try {
  await import('../dist/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.url ?? error.message).includes('/apps/cli/dist/main.js'))
    throw error;
  process.stderr.write(
    'aoinb: the CLI is not built (apps/cli/dist/main.js is missing): run `npm run build` in the repository,\n' +
      'or run the sources with `node apps/cli/bin/aoinb-dev.js`\n',
  );
  process.exitCode = 1;
}
