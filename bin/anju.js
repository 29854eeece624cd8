#!/usr/bin/env node
// Runs the TypeScript sources through tsx so that there is no separate build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
