// Public surface of the evaluation part: metrics from predictions, plots and tables from metrics,
// and the model card that carries a model's metrics from training to inference.
export * from './prediction-record';
export * from './confusion-matrix';
export * from './classification-metrics';
export * from './roc';
export * from './calibration';
export * from './threshold';
export * from './bootstrap';
export * from './wilson-interval';
export * from './patient-level';
export * from './subtype-accuracy';
export * from './cross-validation';
export * from './evaluation-report';
export * from './faithfulness';
export * from './model-card';
export * from './markdown-table';
export * from './plots/training-curves-plot';
export * from './plots/confusion-matrix-plot';
export * from './plots/roc-plot';
export * from './plots/reliability-plot';
export * from './plots/write-plot';
export * from './stain-shift-report';
export * from './plots/stain-shift-plot';
export { escapeXml, niceTicks, FONT_FAMILY } from './plots/svg-kit';
export * from './heatmap/colormap';
export * from './heatmap/overlay';
export * from './heatmap/cam-overlay';
export * from './gallery';
