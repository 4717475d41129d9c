export {
  PRESET_KINDS,
  PRESET_PROTOCOLS,
  POWER_SOURCES,
  LINE_LEVELS,
  presetFileSchema,
  type PresetKind,
  type PresetProtocol,
  type PowerSource,
  type LineLevel,
  type PresetFile,
  type UsbIdEntry,
  type ControlLinesSpec,
  type SerialFormatSpec,
  type C1218Spec,
  type Iec62056_21Spec,
  type HdlcSpec,
} from './preset-schema';
export {
  defaultPresetsDir,
  defaultPresets,
  loadPresets,
  parsePresetFile,
  resolvePreset,
  type HardwarePreset,
  type PresetSet,
} from './preset-loader';
export { matchPreset, normaliseUsbId, type UsbIds } from './preset-match';
export {
  presetSerialSettings,
  presetTimeouts,
  presetProtocols,
  serialUriParams,
  type SerialPhase,
  type PresetSerialSettings,
  type PhaseOptions,
  type PresetTimeouts,
  type C1218Timeouts,
  type Iec62056_21Timeouts,
  type HdlcTimeouts,
} from './serial-settings';
export {
  listPortsReport,
  renderPortsTable,
  formatPortsJson,
  type PortsReport,
  type PortReportEntry,
  type PortsReportOptions,
  type PortKind,
} from './ports-report';
export { presetConnection, presetResolver, type PresetConnection } from './preset-connect';
