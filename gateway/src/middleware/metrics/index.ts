export { recordRequest, routeLabel } from './metrics.js';
