export { httpMetrics, routeLabel } from './metrics.js';
