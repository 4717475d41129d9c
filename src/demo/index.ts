/** The demo (docs/demo.md): `smets1-sim demo`, also callable as a library. */
export {
  runDemo,
  DEMO_CONCURRENCY,
  type DemoOptions,
  type DemoResult,
  type DemoRow,
  type DemoMigration,
  type DemoFailureGroup,
  type DemoPhase,
} from './demo';
export { renderDemo, renderDemoTable } from './render';
export { EMBEDDED_DEMO_FLEET, demoFleetFile, loadDemoFleet, scaleFleet, fleetSize } from './demo-fleet';
export { buildDemoProducts, demoProductsYaml } from './demo-products';
