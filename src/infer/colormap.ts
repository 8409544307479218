// The colormap moved to src/eval/heatmap/ so the training run's Grad-CAM gallery (src/train) can use
// it too; infer code keeps importing it from here.
export * from '../eval/heatmap/colormap';
