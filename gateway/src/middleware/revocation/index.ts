export { revokedError } from './revocation.js';
