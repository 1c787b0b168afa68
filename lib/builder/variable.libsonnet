// Template variables, mirroring upstream Grafonnet v11.4.0's
// `g.dashboard.variable.*` (its hand-written veneer, not the raw schema).
local wrap(v) = if std.isArray(v) then v else [v];

// Grafana does not derive `current`/`options` from `query` on import, so the
// first value is preselected here; multi-value variables hold arrays.
local current(items, multi) = {
  selected: false,
  text: if multi then [items[0].key] else items[0].key,
  value: if multi then [items[0].value] else items[0].value,
};
local options(items) = [
  { selected: i == 0, text: items[i].key, value: items[i].value }
  for i in std.range(0, std.length(items) - 1)
];

local generalOptions = {
  generalOptions: {
    withName(value): { name: value },
    withLabel(value): { label: value },
    withDescription(value): { description: value },
    withCurrent(key, value=key): {
      // `self` is the finished variable, so a later `withMulti` still counts.
      local multi(v) = if std.get(self, 'multi', false) && !std.isArray(v) then [v] else v,
      current: { selected: false, text: multi(key), value: multi(value) },
    },
    showOnDashboard: {
      withLabelAndValue(): { hide: 0 },
      withValueOnly(): { hide: 1 },
      withNothing(): { hide: 2 },
    },
  },
};

local selectionOptions = {
  selectionOptions: {
    withMulti(value=true): { multi: value },
    withIncludeAll(value=true, customAllValue=null): {
      includeAll: value,
      [if customAllValue != null then 'allValue']: customAllValue,
    },
  },
};

local withRegex = { withRegex(value): { regex: value } };

// Options derived from a list of {key, value} items kept hidden in `items`.
local listed = {
  current: current(self.items, std.get(self, 'multi', false)),
  options: options(self.items),
};

{
  query: generalOptions + selectionOptions + withRegex + {
    new(name, query=''): { name: name, type: 'query', query: query },
    withDatasource(type, uid): { datasource+: { type: type, uid: uid } },
    withDatasourceFromVariable(variable):
      if variable.type == 'datasource'
      then self.withDatasource(variable.query, '${%s}' % variable.name)
      else error "`variable` not of type 'datasource'",
    // Numeric `i` wins; otherwise the kind/direction pick Grafana's sort code.
    withSort(i=0, type='alphabetical', asc=true, caseInsensitive=false):
      if i != 0 then { sort: i }
      else if type == 'numerical' then { sort: if asc then 3 else 4 }
      else if caseInsensitive then { sort: if asc then 5 else 6 }
      else { sort: if asc then 1 else 2 },
    queryTypes: {
      withLabelValues(label, metric=''):
        { query: if metric == '' then 'label_values(%s)' % label else 'label_values(%s, %s)' % [metric, label] },
      withQueryResult(query): { query: 'query_result(%s)' % query },
    },
    refresh: {
      onLoad(): { refresh: 1 },
      onTime(): { refresh: 2 },
    },
  },

  custom: generalOptions + selectionOptions + {
    new(name, values): listed {
      name: name,
      type: 'custom',
      items:: [
        if std.isObject(v) then v else { key: std.toString(v), value: std.toString(v) }
        for v in values
      ],
      query: std.join(',', [i.key + ' : ' + i.value for i in self.items]),
    },
  },

  interval: generalOptions {
    new(name, values): listed {
      name: name,
      type: 'interval',
      items:: [{ key: v, value: v } for v in values],
      query: std.join(',', values),
    },
  },

  textbox: generalOptions {
    new(name, default=''): listed {
      name: name,
      type: 'textbox',
      query: default,
      items:: [{ key: self.query, value: self.query }],
    },
  },

  constant: generalOptions {
    new(name, value=''): { name: name, type: 'constant', hide: 2, query: value },
  },

  datasource: generalOptions + selectionOptions + withRegex + {
    new(name, type): { name: name, type: 'datasource', query: type },
  },
}
