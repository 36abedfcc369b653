export { inferImage } from './image.js';
export { resizeBilinear } from './resize.js';
export { floatFeed, type ModelOutput, runModel } from './run.js';
export { extractTile, mirrorIndex, placeTileCore, planTiles, type Tile } from './tiling.js';
export { inferVolume } from './volume.js';
