#!/usr/bin/env node
// `aoinb` from the TypeScript sources through tsx's loader, for development and the
// tests: no build step to forget. The installed `aoinb` is bin/aoinb.js (the build).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
