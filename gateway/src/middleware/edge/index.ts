export { edge } from './edge.js';
