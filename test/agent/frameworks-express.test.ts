/**
 * Express route templates at each supported major (5: `express`; 4: `express-v4`, loaded under
 * its real name): routers mounted on routers, one at a path with a parameter, under --import and
 * --require.
 */
import { packageUnderItsName, realWorldSuite } from '../helpers/realworld';

const EXPRESS_4 = { EXPRESS_MODULE: packageUnderItsName('express-v4', 'express') };

realWorldSuite('express', [
  { title: 'Express 5 under --import', fixture: 'express-realworld.cjs' },
  { title: 'Express 5 under --require', fixture: 'express-realworld.cjs', preload: ['require'] },
  { title: 'Express 4 under --import', fixture: 'express-realworld.cjs', env: EXPRESS_4, nodeArgs: ['--preserve-symlinks'] },
  { title: 'Express 4 under --require', fixture: 'express-realworld.cjs', preload: ['require'], env: EXPRESS_4, nodeArgs: ['--preserve-symlinks'] },
]);
