export { type AuthDeps, requireToken } from './auth.js';
