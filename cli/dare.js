#!/usr/bin/env node
// The `dare` command. The project runs its TypeScript sources directly (no build step): register tsx's
// ESM loader, then load the real entry point.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
