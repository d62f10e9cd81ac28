<?xml version="1.0" encoding="UTF-8"?>
<tileset version="1.10" tiledversion="1.10.2" name="grass" tilewidth="8" tileheight="8" spacing="1" margin="2" tilecount="16" columns="4">
 <image source="grass.png" width="39" height="39" />
 <tile id="0">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <tile id="1">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <tile id="2">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <tile id="3">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <tile id="4">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <tile id="5">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <tile id="6">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <tile id="7">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <tile id="8">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <tile id="9">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <tile id="10">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <tile id="11">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <tile id="12">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <tile id="13">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <tile id="14">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <tile id="15">
  <properties>
   <property name="seamless" type="bool" value="true" />
  </properties>
 </tile>
 <wangsets>
  <wangset name="grass" type="corner" tile="-1">
   <wangcolor name="grass" color="#3c9b3c" tile="-1" probability="1" />
   <wangtile tileid="0" wangid="0,0,0,0,0,0,0,0" />
   <wangtile tileid="1" wangid="0,1,0,0,0,0,0,0" />
   <wangtile tileid="2" wangid="0,0,0,1,0,0,0,0" />
   <wangtile tileid="3" wangid="0,1,0,1,0,0,0,0" />
   <wangtile tileid="4" wangid="0,0,0,0,0,1,0,0" />
   <wangtile tileid="5" wangid="0,1,0,0,0,1,0,0" />
   <wangtile tileid="6" wangid="0,0,0,1,0,1,0,0" />
   <wangtile tileid="7" wangid="0,1,0,1,0,1,0,0" />
   <wangtile tileid="8" wangid="0,0,0,0,0,0,0,1" />
   <wangtile tileid="9" wangid="0,1,0,0,0,0,0,1" />
   <wangtile tileid="10" wangid="0,0,0,1,0,0,0,1" />
   <wangtile tileid="11" wangid="0,1,0,1,0,0,0,1" />
   <wangtile tileid="12" wangid="0,0,0,0,0,1,0,1" />
   <wangtile tileid="13" wangid="0,1,0,0,0,1,0,1" />
   <wangtile tileid="14" wangid="0,0,0,1,0,1,0,1" />
   <wangtile tileid="15" wangid="0,1,0,1,0,1,0,1" />
  </wangset>
 </wangsets>
</tileset>
