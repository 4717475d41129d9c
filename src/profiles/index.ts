export * from './schema';
export * from './wire-ids';
export {
  PROCEDURE_ACTIONS,
  actionSpec,
  type ActionSpec,
  type ArgSpec,
  type ArgKind,
} from './procedure-actions';
export { semanticIssues, resolveProfilePath, type SemanticIssue } from './semantic';
export { mergeLayer, firstLayer, originKey, pathString, type Origin, type Origins } from './merge';
export * from './loader';
export * from './device-binding';
export * from './provenance';
