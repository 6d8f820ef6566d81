/**
 * The declared type of every tag rpm 4.18 knows (its rpmtag.h type annotations), by type. rpm rejects a
 * main header holding a known tag with another type (string tags may use any string type); tags it does
 * not know are allowed. Tag types are part of the package format and do not change between versions.
 */

/** Entry data types: RPM type codes. */
export const RpmType = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;
export type RpmTypeCode = (typeof RpmType)[keyof typeof RpmType];

const BY_TYPE: Readonly<Partial<Record<keyof typeof RpmType, string>>> = {
  CHAR: "1029",
  INT16: "1030 1033",
  INT32:
    "257 277 1003 1006 1008 1009 1028 1034 1037 1045 1046 1048 1051 1052 1053 1068 1069 1080 1095 " +
    "1096 1106 1112 1114 1116 1119 1127 1128 1129 1134 1140 1141 1143 1144 1145 1158 1161 1195 5011 " +
    "5017 5018 5019 5020 5021 5022 5023 5024 5025 5026 5027 5032 5033 5037 5045 5048 5051 5054 5057 " +
    "5068 5070 5072 5078 5080 5082 5084 5085 5091 5093",
  INT64: "270 271 5008 5009",
  STRING:
    "269 273 1000 1001 1002 1007 1010 1011 1014 1015 1020 1021 1022 1023 1024 1025 1026 1044 1064 " +
    "1079 1094 1122 1123 1124 1125 1126 1132 1151 1152 1155 1196 5012 5013 5014 5015 5016 5034 5062 " +
    "5096 5098 5099 5100 5101",
  BIN: "259 261 262 267 268 1012 1013 1043 1146",
  STRING_ARRAY:
    "100 266 276 1018 1019 1027 1035 1036 1039 1040 1047 1049 1050 1054 1055 1059 1060 1061 1062 1065 " +
    "1066 1067 1081 1082 1085 1086 1087 1088 1089 1090 1091 1092 1097 1098 1099 1113 1115 1117 1118 " +
    "1120 1121 1133 1135 1142 1147 1148 1149 1150 1153 1154 1156 1157 1159 1160 5000 5001 5002 5005 " +
    "5006 5007 5010 5030 5031 5035 5036 5040 5041 5042 5043 5044 5046 5047 5049 5050 5052 5053 5055 " +
    "5056 5058 5059 5060 5061 5066 5067 5069 5071 5076 5077 5079 5081 5086 5087 5088 5089 5090 5092 " +
    "5097",
  I18NSTRING: "1004 1005 1016",
};

/** Tag number → declared type. */
export const DECLARED_TAG_TYPES: ReadonlyMap<number, number> = new Map(
  Object.entries(BY_TYPE).flatMap(([type, tags]) =>
    tags.split(" ").map((tag) => [Number(tag), RpmType[type as keyof typeof RpmType]] as const),
  ),
);
