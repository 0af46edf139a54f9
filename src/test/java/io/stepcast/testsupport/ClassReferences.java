package io.stepcast.testsupport;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The classes a compiled class refers to, read from its constant pool: class entries, and every
 * {@code Lname;} in descriptors, generic signatures and annotations (a field's type or an
 * annotation's class value is written only there). What {@code jdeps} reports, without a JDK tool.
 */
public final class ClassReferences {
  /** {@code Lpackage/Name;} not inside a word; a name with a package (text can hold "Length;"). */
  private static final Pattern DESCRIPTOR =
      Pattern.compile("(?<![A-Za-z0-9_$/])L([A-Za-z_$0-9]+(?:/[A-Za-z_$0-9]+)+)[;<]");

  private ClassReferences() {}

  /** Internal names (a/b/C) of the classes {@code classFile} refers to. */
  public static Set<String> of(byte[] classFile) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(classFile));
    if (in.readInt() != 0xCAFEBABE) {
      throw new IOException("not a class file");
    }
    in.readUnsignedShort(); // minor
    in.readUnsignedShort(); // major
    int count = in.readUnsignedShort();
    String[] utf8 = new String[count];
    int[] classNameIndex = new int[count];
    for (int i = 1; i < count; i++) {
      int tag = in.readUnsignedByte();
      switch (tag) {
        case 1 -> utf8[i] = in.readUTF();
        case 7 -> classNameIndex[i] = in.readUnsignedShort();
        case 8, 16, 19, 20 -> in.readUnsignedShort();
        case 15 -> in.skipNBytes(3);
        case 3, 4, 9, 10, 11, 12, 17, 18 -> in.skipNBytes(4);
        case 5, 6 -> {
          in.skipNBytes(8);
          i++; // a long or double takes two slots
        }
        default -> throw new IOException("unknown constant pool tag " + tag + " at " + i);
      }
    }
    Set<String> out = new TreeSet<>();
    for (int i = 1; i < count; i++) {
      if (classNameIndex[i] != 0) {
        String name = utf8[classNameIndex[i]];
        if (name.startsWith("[")) {
          addDescriptors(name, out);
        } else {
          out.add(name);
        }
      } else if (utf8[i] != null) {
        addDescriptors(utf8[i], out);
      }
    }
    return out;
  }

  private static void addDescriptors(String text, Set<String> out) {
    Matcher m = DESCRIPTOR.matcher(text);
    while (m.find()) {
      out.add(m.group(1));
    }
  }
}
