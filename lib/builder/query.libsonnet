// Query targets, mirroring upstream Grafonnet v11.4.0's `g.query.*`.
{
  prometheus: {
    // `datasource` is a uid string such as '${datasource}'. No refId: set it
    // with `withRefId` or `g.util.panel.setRefIDs`.
    new(datasource, expr): {
      datasource: { type: 'prometheus', uid: datasource },
      expr: expr,
    },
    withEditorMode(value): { editorMode: value },
    withExemplar(value=true): { exemplar: value },
    withExpr(value): { expr: value },
    withFormat(value): { format: value },
    withHide(value=true): { hide: value },
    withInstant(value=true): { instant: value },
    withInterval(value): { interval: value },
    withIntervalFactor(value): { intervalFactor: value },
    withLegendFormat(value): { legendFormat: value },
    withQueryType(value): { queryType: value },
    withRange(value=true): { range: value },
    withRefId(value): { refId: value },
  },
}
