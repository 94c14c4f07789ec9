// The dashboard type the generated dashboards must satisfy, built only from Grafana's own
// published types (@grafana/schema at the pinned Grafana version, generated from Grafana's
// CUE kinds). Grafana's Dashboard type leaves a panel's `type` a free string and its
// `options` and `fieldConfig.defaults.custom` free records; here each core panel type gets
// its plugin's published Options and FieldConfig, so an unknown panel type, an unknown
// field anywhere in the dashboard or panel, or a misspelled option fails the check.
// Queries (`targets`) stay free records: Grafana publishes no Prometheus query schema in
// this package (promtool and the integration tests prove the queries instead).
import type * as raw from '@grafana/schema/dist/esm/raw/dashboard/x/dashboard_types.gen';
import type * as BarChart from '@grafana/schema/dist/esm/raw/composable/barchart/panelcfg/x/BarChartPanelCfg_types.gen';
import type * as BarGauge from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type * as DashboardList from '@grafana/schema/dist/esm/raw/composable/dashboardlist/panelcfg/x/DashboardListPanelCfg_types.gen';
import type * as Gauge from '@grafana/schema/dist/esm/raw/composable/gauge/panelcfg/x/GaugePanelCfg_types.gen';
import type * as Heatmap from '@grafana/schema/dist/esm/raw/composable/heatmap/panelcfg/x/HeatmapPanelCfg_types.gen';
import type * as Histogram from '@grafana/schema/dist/esm/raw/composable/histogram/panelcfg/x/HistogramPanelCfg_types.gen';
import type * as Logs from '@grafana/schema/dist/esm/raw/composable/logs/panelcfg/x/LogsPanelCfg_types.gen';
import type * as PieChart from '@grafana/schema/dist/esm/raw/composable/piechart/panelcfg/x/PieChartPanelCfg_types.gen';
import type * as Stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as StateTimeline from '@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen';
import type * as StatusHistory from '@grafana/schema/dist/esm/raw/composable/statushistory/panelcfg/x/StatusHistoryPanelCfg_types.gen';
import type * as Table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type * as Text from '@grafana/schema/dist/esm/raw/composable/text/panelcfg/x/TextPanelCfg_types.gen';
import type * as TimeSeries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type * as Trend from '@grafana/schema/dist/esm/raw/composable/trend/panelcfg/x/TrendPanelCfg_types.gen';

/** No custom field config: the panel plugin publishes none. */
type NoCustom = Record<string, never>;

/** A panel of one plugin: Grafana's Panel with that plugin's options and custom field config. */
type PanelOf<Type extends string, Options, Custom> = Omit<raw.Panel, 'type' | 'options' | 'fieldConfig'> & {
  type: Type;
  options?: Options;
  fieldConfig?: Omit<raw.FieldConfigSource, 'defaults'> & {
    defaults: Omit<raw.FieldConfig, 'custom'> & { custom?: Custom };
  };
};

/** Core panel plugins by their plugin id (the `type` a dashboard names them by). */
type KnownPanel =
  | PanelOf<'timeseries', TimeSeries.Options, TimeSeries.FieldConfig>
  | PanelOf<'trend', Trend.Options, Trend.FieldConfig>
  | PanelOf<'stat', Stat.Options, NoCustom>
  | PanelOf<'gauge', Gauge.Options, NoCustom>
  | PanelOf<'bargauge', BarGauge.Options, NoCustom>
  | PanelOf<'barchart', BarChart.Options, BarChart.FieldConfig>
  | PanelOf<'histogram', Histogram.Options, Histogram.FieldConfig>
  | PanelOf<'heatmap', Heatmap.Options, Heatmap.FieldConfig>
  | PanelOf<'piechart', PieChart.Options, PieChart.FieldConfig>
  | PanelOf<'state-timeline', StateTimeline.Options, StateTimeline.FieldConfig>
  | PanelOf<'status-history', StatusHistory.Options, StatusHistory.FieldConfig>
  | PanelOf<'table', Table.Options, Table.FieldConfig>
  | PanelOf<'text', Text.Options, NoCustom>
  | PanelOf<'logs', Logs.Options, NoCustom>
  | PanelOf<'dashlist', DashboardList.Options, NoCustom>;

type Row = Omit<raw.RowPanel, 'panels'> & { panels: KnownPanel[] };

/**
 * What a JSON file can hold where the type says enum: the enum's values (a string enum
 * accepts only its members in TypeScript, never the equal string literal from JSON).
 */
type JsonOf<T> = T extends string
  ? `${T}`
  : T extends number | boolean | null | undefined
    ? T
    : T extends ReadonlyArray<infer Item>
      ? Array<JsonOf<Item>>
      : T extends object
        ? { [K in keyof T]: JsonOf<T[K]> }
        : T;

export type StrictDashboard = JsonOf<Omit<raw.Dashboard, 'panels'> & { panels?: Array<KnownPanel | Row> }>;

/** Grafana's Dashboard type as published, as JSON can satisfy it: what the self-test compares with. */
export type PlainDashboard = JsonOf<raw.Dashboard>;
