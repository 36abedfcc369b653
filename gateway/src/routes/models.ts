import type { ServedModel } from '@medai-flow/common';
import type { Hono, MiddlewareHandler } from 'hono';
import type { GatewayEnv } from '../http/context.js';
import type { GatewayServices } from '../services.js';

/** A model as the API shows it: its input contract, not its preprocessing internals. */
export function describeModel({ manifest, liveWorkers }: ServedModel) {
  return {
    name: manifest.name,
    version: manifest.version,
    sha256: manifest.sha256,
    task: manifest.task,
    ...(manifest.description ? { description: manifest.description } : {}),
    inputs: manifest.inputs,
    outputs: manifest.outputs,
    labels: manifest.labels,
    accepts: manifest.accepts,
    liveWorkers,
  };
}

export function registerModelRoutes(
  app: Hono<GatewayEnv>,
  services: GatewayServices,
  canRead: MiddlewareHandler<GatewayEnv>,
): void {
  app.get('/v1/models', canRead, async (c) => {
    const models = await services.catalog.list();
    return c.json({ models: models.filter((model) => model.liveWorkers > 0).map(describeModel) });
  });

  app.get('/v1/models/:model', canRead, async (c) => {
    return c.json(describeModel(await services.catalog.require(c.req.param('model'))));
  });
}
