// String helpers. `fmt` fills each `%s` of a template with the next argument: the same text
// as `template % args`, which the C++ jsonnet binding runs as slow Jsonnet code (~3 ms a
// call; this is ~30x cheaper, and queries are built from dozens of them). Templates hold no
// other `%` (split on one character: jsonnet 0.18's std.split takes no longer separator).
{
  fmt(template, args)::
    local values = if std.isArray(args) then args else [args];
    local parts = std.split(template, '%');
    assert std.length(parts) == std.length(values) + 1 : 'fmt: %s slots and arguments differ';
    std.join('', [parts[0]] + [
      values[i] + std.substr(parts[i + 1], 1, std.length(parts[i + 1]) - 1)
      for i in std.range(0, std.length(values) - 1)
    ]),
}
