package io.stepcast.config;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * One setting of a topology spec, declared once (as Kafka's {@code ConfigDef.define}): its dotted
 * path, default, validator and documentation. Its type is the type of the {@link TopologySpec}
 * record component at that path, so the typed view and the declaration cannot disagree. From this
 * come the built-in defaults, the environment variable, the validation error and the row of the
 * configuration table.
 */
public final class Setting {
  /** How the default is given. */
  enum Presence {
    /** Has a default value (possibly a template over the pipeline name). */
    DEFAULT,
    /** Must be set in the spec. */
    REQUIRED,
    /** May be left out; then it is null (absent). */
    OPTIONAL
  }

  private final String path;
  private final Presence presence;
  private final Object defaultValue;
  private final Validator validator;
  private final String doc;
  private final String envName;
  private final List<Method> accessors;
  private final Class<?> type;
  private final Type genericType;

  Setting(String path, Presence presence, Object defaultValue, Validator validator, String doc) {
    this.path = path;
    this.presence = presence;
    this.defaultValue = defaultValue;
    this.validator = validator;
    this.doc = doc;
    this.envName = SpecSettings.ENV_PREFIX + upperSnake(path);
    List<Method> chain = new ArrayList<>();
    Class<?> owner = TopologySpec.class;
    RecordComponent component = null;
    for (String part : path.split("\\.")) {
      if (owner == null || !owner.isRecord()) {
        throw new IllegalStateException("setting " + path + ": " + part + " is not in a section");
      }
      component =
          Arrays.stream(owner.getRecordComponents())
              .filter(c -> c.getName().equals(part))
              .findFirst()
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "setting "
                              + path
                              + " has no field in TopologySpec; add it to the record"));
      chain.add(component.getAccessor());
      owner = component.getType();
    }
    this.accessors = List.copyOf(chain);
    this.type = component.getType();
    this.genericType = component.getGenericType();
  }

  /** The dotted path, e.g. {@code topics.deadLetter}. */
  public String path() {
    return path;
  }

  /** The environment variable that overrides it, e.g. {@code STEPCAST_TOPICS_DEAD_LETTER}. */
  public String envName() {
    return envName;
  }

  /** The documentation line. */
  public String doc() {
    return doc;
  }

  /** The validator. */
  public Validator validator() {
    return validator;
  }

  /** The Java type of the value. */
  public Class<?> type() {
    return type;
  }

  /** Whether it must be set in the spec. */
  public boolean required() {
    return presence == Presence.REQUIRED;
  }

  /** Whether it has a built-in default. */
  public boolean hasDefault() {
    return presence == Presence.DEFAULT;
  }

  /** The default for pipeline {@code name} ({@code {name}} in a text default is replaced). */
  public Object defaultFor(String name) {
    if (defaultValue instanceof Enum<?> e) {
      return e.name().toLowerCase(Locale.ROOT);
    }
    return defaultValue instanceof String s ? s.replace("{name}", name) : defaultValue;
  }

  /** The default as the documentation writes it. */
  public String defaultText() {
    return switch (presence) {
      case REQUIRED -> "(required)";
      case OPTIONAL -> "—";
      case DEFAULT ->
          defaultValue instanceof String s
              ? s.replace("{name}", "NAME")
              : defaultValue instanceof Enum<?> e
                  ? e.name().toLowerCase(Locale.ROOT)
                  : defaultValue instanceof List<?> l && l.isEmpty()
                      ? "[]"
                      : String.valueOf(defaultValue);
    };
  }

  /** The type and accepted values as the documentation writes them. */
  public String typeText() {
    String accepted = validator.describe();
    if (type.isEnum()) {
      return Arrays.stream(type.getEnumConstants())
          .map(c -> c.toString().toLowerCase(Locale.ROOT))
          .collect(Collectors.joining(", "));
    }
    String t;
    if (genericType instanceof ParameterizedType p) {
      Type arg = p.getActualTypeArguments()[0];
      t =
          "list of "
              + (arg instanceof Class<?> c ? c.getSimpleName().toLowerCase(Locale.ROOT) : arg);
    } else if (type == String.class) {
      if (!accepted.isEmpty()) {
        return accepted;
      }
      t = "string";
    } else if (type == Integer.class || type == short.class) {
      t = "int";
    } else {
      t = type.getSimpleName().toLowerCase(Locale.ROOT);
    }
    return accepted.isEmpty() ? t : t + " " + accepted;
  }

  /** Whether the value is text (an environment value is then taken as is, not parsed as YAML). */
  boolean isText() {
    return type == String.class;
  }

  /** The value of this setting in {@code spec}, or null when it or its section is absent. */
  Object valueIn(Object spec) {
    Object v = spec;
    try {
      for (Method m : accessors) {
        if (v == null) {
          return null;
        }
        v = m.invoke(v);
      }
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot read setting " + path, e);
    }
    return v;
  }

  /** The value of this setting's last field in a section record (e.g. a {@code Training}). */
  Object valueInSection(Object section) {
    try {
      return accessors.get(accessors.size() - 1).invoke(section);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot read setting " + path, e);
    }
  }

  static String upperSnake(String path) {
    StringBuilder sb = new StringBuilder();
    for (char ch : path.toCharArray()) {
      if (ch == '.') {
        sb.append('_');
      } else if (Character.isUpperCase(ch)) {
        sb.append('_').append(ch);
      } else {
        sb.append(Character.toUpperCase(ch));
      }
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return path;
  }
}
